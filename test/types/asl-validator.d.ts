declare module 'asl-validator' {
  /** asl-validator 4 ships no types; this is its documented call shape. */
  export default function validator(
    definition: unknown,
    options?: { checkPaths?: boolean; checkArn?: boolean },
  ): { isValid: boolean; errors: { message?: string; [key: string]: unknown }[] };
}
