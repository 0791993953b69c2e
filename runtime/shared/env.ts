/** A required environment variable, or an error naming it (the stack sets every one). */
export function requiredEnv(name: string): string {
  const value = process.env[name];
  if (value === undefined || value === '') {
    throw new Error(
      `environment variable ${name} is not set; this function is configured by the Bulkhead response stack`,
    );
  }
  return value;
}
