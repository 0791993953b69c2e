import type {
  DescribeAlarmsCommandInput,
  DescribeAlarmsCommandOutput,
  Dimension,
  ListTagsForResourceCommandInput,
  ListTagsForResourceCommandOutput,
  MetricAlarm,
  PutMetricDataCommandInput,
  PutMetricDataCommandOutput,
} from '@aws-sdk/client-cloudwatch';
import { type Handler, type Out, ServiceModel } from './service-model';
import type { Tag } from './util/tags';

/** One recorded data point (or statistic set / values array) of PutMetricData. */
export interface MetricRecord {
  Namespace: string;
  MetricName: string;
  Dimensions: Dimension[];
  Timestamp: number;
  Value?: number;
  Values?: number[];
  Counts?: number[];
  StatisticValues?: { SampleCount?: number; Sum?: number; Minimum?: number; Maximum?: number };
  Unit?: string;
  StorageResolution?: number;
}

interface CloudWatchState {
  metrics: MetricRecord[];
  alarms: Record<string, { alarm: MetricAlarm; tags: Tag[] }>;
}

/**
 * CloudWatch: PutMetricData is validated (namespace must not start with `AWS/`, at most
 * 1,000 metrics and 30 dimensions, finite values) and recorded for tests to read back;
 * alarms can be seeded and described with their tags.
 */
export class CloudWatchModel extends ServiceModel<CloudWatchState> {
  readonly service = 'CloudWatch' as const;

  protected initialState(): CloudWatchState {
    return { metrics: [], alarms: {} };
  }

  handlers(): Record<string, Handler> {
    return {
      PutMetricData: (i: PutMetricDataCommandInput) => this.putMetricData(i),
      DescribeAlarms: (i: DescribeAlarmsCommandInput) => this.describeAlarms(i),
      ListTagsForResource: (i: ListTagsForResourceCommandInput) => this.listTags(i),
    };
  }

  /** Recorded data points, filtered by namespace, name and (subset of) dimensions. */
  metrics(filter: { namespace?: string; name?: string; dimensions?: Record<string, string> } = {}): MetricRecord[] {
    return this.state.metrics
      .filter((m) => filter.namespace === undefined || m.Namespace === filter.namespace)
      .filter((m) => filter.name === undefined || m.MetricName === filter.name)
      .filter((m) =>
        Object.entries(filter.dimensions ?? {}).every(([k, v]) =>
          m.Dimensions.some((d) => d.Name === k && d.Value === v),
        ),
      )
      .map((m) => structuredClone(m));
  }

  /** Seeds an alarm with tags; returns its ARN. */
  createAlarm(
    name: string,
    options: { tags?: Tag[]; namespace?: string; metricName?: string; dimensions?: Dimension[] } = {},
  ): string {
    const arn = this.arn('cloudwatch', `alarm:${name}`);
    this.state.alarms[arn] = {
      alarm: {
        AlarmName: name,
        AlarmArn: arn,
        Namespace: options.namespace,
        MetricName: options.metricName,
        Dimensions: options.dimensions,
        StateValue: 'OK',
        StateUpdatedTimestamp: this.nowDate(),
      },
      tags: options.tags ?? [],
    };
    return arn;
  }

  private putMetricData(input: PutMetricDataCommandInput): Out<PutMetricDataCommandOutput> {
    const ns = input.Namespace ?? '';
    if (!ns) this.fail('MissingParameter', 'The parameter Namespace is required.');
    if (ns.startsWith('AWS/'))
      this.fail('InvalidParameterValue', `The value ${ns} for parameter Namespace is invalid.`);
    const data = input.MetricData ?? [];
    if (!data.length) this.fail('MissingParameter', 'The parameter MetricData is required.');
    if (data.length > 1000)
      this.fail('InvalidParameterValue', 'The collection MetricData must not have a size greater than 1000.');
    const records = data.map((d, i) => {
      const n = i + 1;
      if (!d.MetricName) this.fail('MissingParameter', `The parameter MetricData.member.${n}.MetricName is required.`);
      if ((d.Dimensions?.length ?? 0) > 30) {
        this.fail(
          'InvalidParameterValue',
          `The collection MetricData.member.${n}.Dimensions must not have a size greater than 30.`,
        );
      }
      if (d.Value !== undefined && !Number.isFinite(d.Value)) {
        this.fail(
          'InvalidParameterValue',
          `The value ${d.Value} for parameter MetricData.member.${n}.Value is invalid.`,
        );
      }
      if (d.Value !== undefined && (d.Values?.length || d.StatisticValues)) {
        this.fail(
          'InvalidParameterCombination',
          `The parameters MetricData.member.${n}.Value and MetricData.member.${n}.Values are mutually exclusive and you have specified both.`,
        );
      }
      return {
        Namespace: ns,
        MetricName: d.MetricName,
        Dimensions: (d.Dimensions ?? []).map((x) => ({ ...x })),
        Timestamp: d.Timestamp ? new Date(d.Timestamp).getTime() : this.now,
        Value: d.Value,
        Values: d.Values,
        Counts: d.Counts,
        StatisticValues: d.StatisticValues,
        Unit: d.Unit,
        StorageResolution: d.StorageResolution,
      };
    });
    this.state.metrics.push(...records);
    return {};
  }

  private describeAlarms(input: DescribeAlarmsCommandInput): Out<DescribeAlarmsCommandOutput> {
    const alarms = Object.values(this.state.alarms)
      .map((a) => a.alarm)
      .filter((a) => !input.AlarmNames?.length || input.AlarmNames.includes(a.AlarmName ?? ''))
      .filter((a) => !input.AlarmNamePrefix || (a.AlarmName ?? '').startsWith(input.AlarmNamePrefix));
    return { MetricAlarms: alarms.map((a) => structuredClone(a)), CompositeAlarms: [] };
  }

  private listTags(input: ListTagsForResourceCommandInput): Out<ListTagsForResourceCommandOutput> {
    const alarm = this.state.alarms[input.ResourceARN ?? ''];
    if (!alarm)
      return this.fail('ResourceNotFoundException', 'The specified resource does not exist.', { status: 404 });
    return { Tags: alarm.tags.map((t) => ({ ...t })) };
  }
}
