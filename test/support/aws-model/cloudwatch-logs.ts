import type {
  CreateLogStreamCommandInput,
  CreateLogStreamCommandOutput,
  DescribeLogStreamsCommandInput,
  DescribeLogStreamsCommandOutput,
  FilteredLogEvent,
  FilterLogEventsCommandInput,
  FilterLogEventsCommandOutput,
  GetLogEventsCommandInput,
  GetLogEventsCommandOutput,
  PutLogEventsCommandInput,
  PutLogEventsCommandOutput,
} from '@aws-sdk/client-cloudwatch-logs';
import { type Handler, type Out, ServiceModel } from './service-model';
import { paginate } from './util/pagination';

interface LogEventRecord {
  timestamp: number;
  message: string;
  ingestionTime: number;
  eventId: string;
}

interface LogGroupRecord {
  logGroupName: string;
  arn: string;
  creationTime: number;
  streams: Record<string, { logStreamName: string; creationTime: number; events: LogEventRecord[] }>;
}

interface LogsState {
  groups: Record<string, LogGroupRecord>;
}

type Matcher = (message: string) => boolean;

/** Jan 1, 2024 00:00:00 UTC: the earliest startTime FilterLogEvents takes with startFromHead=false. */
const STARTFROMHEAD_FALSE_EARLIEST = Date.UTC(2024, 0, 1);
/** "Each page returned can contain up to 1 MB of log events or up to 10,000 log events." */
const FILTER_PAGE_BYTES = 1_048_576;

interface FilterToken {
  readonly offset: number;
  readonly newestFirst: boolean;
}

function encodeFilterToken(token: FilterToken): string {
  return Buffer.from(JSON.stringify({ aws_model_filter: token })).toString('base64');
}

function decodeFilterToken(text: string): FilterToken | undefined {
  try {
    const parsed = JSON.parse(Buffer.from(text, 'base64').toString('utf8')) as { aws_model_filter?: FilterToken };
    const token = parsed.aws_model_filter;
    return typeof token?.offset === 'number' && typeof token.newestFirst === 'boolean' ? token : undefined;
  } catch {
    return undefined;
  }
}

/**
 * A subset of CloudWatch Logs filter pattern syntax: terms that must all appear, quoted
 * phrases, `?term` alternatives, `-term` exclusions, and JSON patterns of the form
 * `{ $.a.b = "value" }` / `{ $.a != value }` joined with && or ||.
 */
export function compileFilterPattern(pattern: string | undefined): Matcher | undefined {
  const text = (pattern ?? '').trim();
  if (!text) return () => true;
  if (text.startsWith('{')) {
    if (!text.endsWith('}')) return undefined;
    const body = text.slice(1, -1);
    const ors = body.split('||').map((part) =>
      part.split('&&').map((clause) => {
        const m = /^\s*\$\.([\w.[\]]+)\s*(=|!=)\s*(?:"([^"]*)"|(\S+))\s*$/.exec(clause);
        return m;
      }),
    );
    if (ors.some((ands) => ands.some((m) => !m))) return undefined;
    return (message) => {
      let doc: unknown;
      try {
        doc = JSON.parse(message);
      } catch {
        return false;
      }
      return ors.some((ands) =>
        ands.every((m) => {
          const [, path = '', op, quoted, bare] = m as RegExpExecArray;
          const value = path
            .split('.')
            .reduce<unknown>(
              (o, k) => (o && typeof o === 'object' ? (o as Record<string, unknown>)[k] : undefined),
              doc,
            );
          const wanted = quoted ?? bare ?? '';
          const pattern = new RegExp(`^${wanted.replace(/[.+^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '.*')}$`);
          const equal = value !== undefined && pattern.test(String(value));
          return op === '=' ? equal : !equal;
        }),
      );
    };
  }
  const tokens = text.match(/[?-]?"[^"]*"|\S+/g) ?? [];
  const strip = (t: string) => t.replace(/^[?-]/, '').replace(/^"(.*)"$/, '$1');
  const optional = tokens.filter((t) => t.startsWith('?')).map(strip);
  const excluded = tokens.filter((t) => t.startsWith('-') && t.length > 1).map(strip);
  const required = tokens.filter((t) => !t.startsWith('?') && !(t.startsWith('-') && t.length > 1)).map(strip);
  return (message) =>
    required.every((t) => message.includes(t)) &&
    !excluded.some((t) => message.includes(t)) &&
    (optional.length === 0 || optional.some((t) => message.includes(t)));
}

/**
 * CloudWatch Logs: log groups and streams seeded by tests (or written with PutLogEvents),
 * read with FilterLogEvents, GetLogEvents and DescribeLogStreams.
 */
export class CloudWatchLogsModel extends ServiceModel<LogsState> {
  readonly service = 'CloudWatchLogs' as const;

  protected initialState(): LogsState {
    return { groups: {} };
  }

  handlers(): Record<string, Handler> {
    return {
      FilterLogEvents: (i: FilterLogEventsCommandInput) => this.filterLogEvents(i),
      GetLogEvents: (i: GetLogEventsCommandInput) => this.getLogEvents(i),
      DescribeLogStreams: (i: DescribeLogStreamsCommandInput) => this.describeLogStreams(i),
      CreateLogStream: (i: CreateLogStreamCommandInput) => this.createLogStream(i),
      PutLogEvents: (i: PutLogEventsCommandInput) => this.putLogEvents(i),
    };
  }

  /** Creates a log group (seeding). */
  createLogGroup(name: string): void {
    this.state.groups[name] ??= {
      logGroupName: name,
      arn: this.arn('logs', `log-group:${name}:*`),
      creationTime: this.now,
      streams: {},
    };
  }

  /** Appends events to a stream, creating group and stream as needed (seeding). */
  seedEvents(group: string, stream: string, events: Array<{ timestamp?: number; message: string }>): void {
    this.createLogGroup(group);
    const g = this.state.groups[group] as LogGroupRecord;
    g.streams[stream] ??= { logStreamName: stream, creationTime: this.now, events: [] };
    const s = g.streams[stream];
    for (const e of events) {
      s?.events.push({
        timestamp: e.timestamp ?? this.now,
        message: e.message,
        ingestionTime: this.now,
        eventId: this.model.ids.digits(56),
      });
    }
    s?.events.sort((a, b) => a.timestamp - b.timestamp);
  }

  private group(input: { logGroupName?: string; logGroupIdentifier?: string }): LogGroupRecord {
    if (input.logGroupName && input.logGroupIdentifier) {
      this.fail('InvalidParameterException', 'LogGroup name and LogGroup ARN are mutually exclusive parameters.');
    }
    const id = input.logGroupName ?? input.logGroupIdentifier ?? '';
    const name = id.startsWith('arn:')
      ? id.replace(/^arn:[^:]+:logs:[^:]+:\d+:log-group:/, '').replace(/:\*$/, '')
      : id;
    const group = this.state.groups[name];
    if (!group) return this.fail('ResourceNotFoundException', 'The specified log group does not exist.');
    return group;
  }

  /**
   * FilterLogEvents, as the API reference (FilterLogEventsCommand, FilterLogEventsRequest)
   * describes it:
   * - "By default, the events are returned in ascending timestamp order (oldest first). To
   *   return events in descending timestamp order (newest first), set the startFromHead
   *   parameter to false."
   * - "Setting startFromHead to false is supported only when startTime is on or after Jan 1,
   *   2024 00:00:00 UTC. A request with startFromHead set to false and a startTime before
   *   this date returns an InvalidParameterException." (No startTime means the beginning of
   *   time, so the model refuses that too: a decision, the reference does not say.)
   * - "On subsequent requests, the nextToken determines the sort direction."
   * - "Each page returned can contain up to 1 MB of log events or up to 10,000 log events."
   *   An event's size is its UTF-8 message plus 26 bytes (PutLogEvents' batch-size rule).
   * - endTime: "Events with a timestamp later than this time are not returned" (inclusive).
   */
  private filterLogEvents(input: FilterLogEventsCommandInput): Out<FilterLogEventsCommandOutput> {
    const group = this.group(input);
    if (input.logStreamNames?.length && input.logStreamNamePrefix) {
      this.fail(
        'InvalidParameterException',
        'logStreamNames and logStreamNamePrefix are mutually exclusive parameters.',
      );
    }
    const matcher = compileFilterPattern(input.filterPattern);
    if (!matcher) return this.fail('InvalidParameterException', 'Invalid filter pattern');
    const limit = input.limit ?? 10_000;
    if (limit < 1 || limit > 10_000) this.fail('InvalidParameterException', 'limit must be between 1 and 10000');
    const token = input.nextToken === undefined ? undefined : decodeFilterToken(input.nextToken);
    if (input.nextToken !== undefined && !token) {
      return this.fail('InvalidParameterException', 'The specified nextToken is invalid.');
    }
    const newestFirst = token ? token.newestFirst : input.startFromHead === false;
    if (!token && newestFirst && (input.startTime ?? 0) < STARTFROMHEAD_FALSE_EARLIEST) {
      this.fail(
        'InvalidParameterException',
        'startFromHead=false is supported only when startTime is on or after Jan 1, 2024 00:00:00 UTC.',
      );
    }
    const events: FilteredLogEvent[] = Object.values(group.streams)
      .filter((s) => !input.logStreamNames?.length || input.logStreamNames.includes(s.logStreamName))
      .filter((s) => !input.logStreamNamePrefix || s.logStreamName.startsWith(input.logStreamNamePrefix))
      .flatMap((s) =>
        s.events
          .filter(
            (e) =>
              (input.startTime === undefined || e.timestamp >= input.startTime) &&
              (input.endTime === undefined || e.timestamp <= input.endTime),
          )
          .filter((e) => matcher(e.message))
          .map((e) => ({
            logStreamName: s.logStreamName,
            timestamp: e.timestamp,
            message: e.message,
            ingestionTime: e.ingestionTime,
            eventId: e.eventId,
          })),
      )
      .sort((a, b) => (a.timestamp ?? 0) - (b.timestamp ?? 0) || (a.eventId ?? '').localeCompare(b.eventId ?? ''));
    if (newestFirst) events.reverse();
    const start = token?.offset ?? 0;
    let end = start;
    let bytes = 0;
    while (end < events.length && end - start < limit) {
      const size = Buffer.byteLength(events[end]?.message ?? '') + 26;
      if (end > start && bytes + size > FILTER_PAGE_BYTES) break;
      bytes += size;
      end++;
    }
    return {
      events: events.slice(start, end),
      nextToken: end < events.length ? encodeFilterToken({ offset: end, newestFirst }) : undefined,
      searchedLogStreams: [],
    };
  }

  private stream(group: LogGroupRecord, name: string | undefined) {
    const stream = group.streams[name ?? ''];
    if (!stream) return this.fail('ResourceNotFoundException', 'The specified log stream does not exist.');
    return stream;
  }

  private getLogEvents(input: GetLogEventsCommandInput): Out<GetLogEventsCommandOutput> {
    const stream = this.stream(this.group(input), input.logStreamName);
    const events = stream.events.filter(
      (e) =>
        (input.startTime === undefined || e.timestamp >= input.startTime) &&
        (input.endTime === undefined || e.timestamp < input.endTime),
    );
    const limit = input.limit ?? 10_000;
    let start: number;
    let end: number;
    const token = input.nextToken;
    if (token?.startsWith('f/')) {
      start = Number(token.slice(2));
      end = Math.min(events.length, start + limit);
    } else if (token?.startsWith('b/')) {
      end = Number(token.slice(2));
      start = Math.max(0, end - limit);
    } else if (input.startFromHead) {
      start = 0;
      end = Math.min(events.length, limit);
    } else {
      end = events.length;
      start = Math.max(0, end - limit);
    }
    return {
      events: events
        .slice(start, end)
        .map((e) => ({ timestamp: e.timestamp, message: e.message, ingestionTime: e.ingestionTime })),
      nextForwardToken: `f/${String(end).padStart(56, '0')}`,
      nextBackwardToken: `b/${String(start).padStart(56, '0')}`,
    };
  }

  private describeLogStreams(input: DescribeLogStreamsCommandInput): Out<DescribeLogStreamsCommandOutput> {
    const group = this.group(input);
    let streams = Object.values(group.streams).filter(
      (s) => !input.logStreamNamePrefix || s.logStreamName.startsWith(input.logStreamNamePrefix),
    );
    if (input.orderBy === 'LastEventTime') {
      streams = streams.sort((a, b) => (a.events.at(-1)?.timestamp ?? 0) - (b.events.at(-1)?.timestamp ?? 0));
    } else {
      streams = streams.sort((a, b) => (a.logStreamName < b.logStreamName ? -1 : 1));
    }
    if (input.descending) streams.reverse();
    const out = streams.map((s) => ({
      logStreamName: s.logStreamName,
      creationTime: s.creationTime,
      firstEventTimestamp: s.events[0]?.timestamp,
      lastEventTimestamp: s.events.at(-1)?.timestamp,
      lastIngestionTime: s.events.at(-1)?.ingestionTime,
      arn: `${group.arn.replace(/:\*$/, '')}:log-stream:${s.logStreamName}`,
    }));
    const page = paginate(out, input.limit, input.nextToken, 50);
    if (!page) return this.fail('InvalidParameterException', 'The specified nextToken is invalid.');
    return { logStreams: page.items, nextToken: page.nextToken };
  }

  private createLogStream(input: CreateLogStreamCommandInput): Out<CreateLogStreamCommandOutput> {
    const group = this.group(input);
    const name = input.logStreamName ?? '';
    if (group.streams[name]) this.fail('ResourceAlreadyExistsException', 'The specified log stream already exists');
    group.streams[name] = { logStreamName: name, creationTime: this.now, events: [] };
    return {};
  }

  private putLogEvents(input: PutLogEventsCommandInput): Out<PutLogEventsCommandOutput> {
    const stream = this.stream(this.group(input), input.logStreamName);
    const events = input.logEvents ?? [];
    for (let i = 1; i < events.length; i++) {
      if ((events[i]?.timestamp ?? 0) < (events[i - 1]?.timestamp ?? 0)) {
        this.fail(
          'InvalidParameterException',
          'Log events in a single PutLogEvents request must be in chronological order.',
        );
      }
    }
    for (const e of events) {
      stream.events.push({
        timestamp: e.timestamp ?? this.now,
        message: e.message ?? '',
        ingestionTime: this.now,
        eventId: this.model.ids.digits(56),
      });
    }
    stream.events.sort((a, b) => a.timestamp - b.timestamp);
    return { nextSequenceToken: this.model.ids.digits(56) };
  }
}
