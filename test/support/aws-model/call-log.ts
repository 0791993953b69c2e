import type { FaultKind } from './faults';
import type { ServiceName } from './service-names';

/** One attempt at one AWS call, as the model saw it. */
export interface CallRecord {
  /** Order of arrival across all services. */
  seq: number;
  service: ServiceName;
  command: string;
  /** A copy of the request (the low-level form for DynamoDB document-client calls). */
  input: unknown;
  mutating: boolean;
  /** 1 for the first attempt of an SDK `send`, 2 for its first retry, ... */
  attempt: number;
  /** Virtual time when the call arrived. */
  at: number;
  /** Real time (Date.now) when the call arrived. */
  wallTime: number;
  outcome: 'pending' | 'ok' | 'error';
  output?: unknown;
  error?: { name: string; message: string; status?: number };
  /** Set when an injected fault or the rate limiter decided the outcome. */
  injected?: FaultKind | 'rate-limit';
  /** With `afterCommit` faults: the change was made although the call failed. */
  committed?: boolean;
}

/** Filters for {@link CallLog.find}. */
export interface CallFilter {
  service?: ServiceName;
  command?: string | RegExp;
  outcome?: CallRecord['outcome'];
  mutating?: boolean;
  /** Include calls whose failure was injected (default true). */
  includeInjected?: boolean;
}

/** Every call the model answered, in order (`model.calls`). */
export class CallLog {
  private records: CallRecord[] = [];
  private seq = 0;

  start(record: Omit<CallRecord, 'seq' | 'outcome'>): CallRecord {
    const full: CallRecord = { ...record, seq: ++this.seq, outcome: 'pending' };
    this.records.push(full);
    return full;
  }

  /** All records, oldest first. */
  all(): readonly CallRecord[] {
    return this.records;
  }

  find(filter: CallFilter = {}): CallRecord[] {
    return this.records.filter((r) => {
      if (filter.service && r.service !== filter.service) return false;
      if (filter.command !== undefined) {
        const ok = typeof filter.command === 'string' ? r.command === filter.command : filter.command.test(r.command);
        if (!ok) return false;
      }
      if (filter.outcome && r.outcome !== filter.outcome) return false;
      if (filter.mutating !== undefined && r.mutating !== filter.mutating) return false;
      if (filter.includeInjected === false && r.injected) return false;
      return true;
    });
  }

  clear(): void {
    this.records = [];
    this.seq = 0;
  }
}
