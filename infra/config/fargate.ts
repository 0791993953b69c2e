/**
 * The CPU and memory pairs AWS Fargate offers for Linux tasks
 * (https://docs.aws.amazon.com/AmazonECS/latest/developerguide/fargate-tasks-services.html#fargate-tasks-size).
 * CPU in CPU units (1024 = 1 vCPU), memory in MiB.
 */
const FARGATE_MEMORY_BY_CPU: ReadonlyMap<number, readonly number[]> = new Map([
  [256, [512, 1024, 2048]],
  [512, range(1024, 4096, 1024)],
  [1024, range(2048, 8192, 1024)],
  [2048, range(4096, 16384, 1024)],
  [4096, range(8192, 30720, 1024)],
  [8192, range(16384, 61440, 4096)],
  [16384, range(32768, 122880, 8192)],
]);

function range(from: number, to: number, step: number): number[] {
  const values: number[] = [];
  for (let v = from; v <= to; v += step) values.push(v);
  return values;
}

export const FARGATE_CPU_VALUES: readonly number[] = [...FARGATE_MEMORY_BY_CPU.keys()];

/** Memory values Fargate offers for a CPU value, or undefined for a CPU value it does not offer. */
export function fargateMemoryFor(cpu: number): readonly number[] | undefined {
  return FARGATE_MEMORY_BY_CPU.get(cpu);
}

/** Whether Fargate offers this CPU/memory pair. */
export function isFargateSize(cpu: number, memory: number): boolean {
  return fargateMemoryFor(cpu)?.includes(memory) ?? false;
}

/** A short human description of the memory a CPU value allows, for error messages. */
export function describeFargateMemory(cpu: number): string {
  const values = fargateMemoryFor(cpu);
  if (!values) return `cpu must be one of ${FARGATE_CPU_VALUES.join(', ')}`;
  if (values.length <= 3) return `cpu ${cpu} allows memory ${values.join(', ')}`;
  const step = (values[1] ?? 0) - (values[0] ?? 0);
  return `cpu ${cpu} allows memory ${values[0]} to ${values[values.length - 1]} in steps of ${step}`;
}
