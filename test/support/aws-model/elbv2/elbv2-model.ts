import type {
  Action,
  AddTagsCommandInput,
  AddTagsCommandOutput,
  CreateRuleCommandInput,
  CreateRuleCommandOutput,
  DeleteRuleCommandInput,
  DeleteRuleCommandOutput,
  DeregisterTargetsCommandInput,
  DeregisterTargetsCommandOutput,
  DescribeListenersCommandInput,
  DescribeListenersCommandOutput,
  DescribeLoadBalancersCommandInput,
  DescribeLoadBalancersCommandOutput,
  DescribeRulesCommandInput,
  DescribeRulesCommandOutput,
  DescribeTagsCommandInput,
  DescribeTagsCommandOutput,
  DescribeTargetGroupsCommandInput,
  DescribeTargetGroupsCommandOutput,
  DescribeTargetHealthCommandInput,
  DescribeTargetHealthCommandOutput,
  Listener,
  LoadBalancer,
  ModifyRuleCommandInput,
  ModifyRuleCommandOutput,
  RegisterTargetsCommandInput,
  RegisterTargetsCommandOutput,
  RemoveTagsCommandInput,
  RemoveTagsCommandOutput,
  Rule,
  RuleCondition,
  TargetGroup,
  TargetHealthDescription,
} from '@aws-sdk/client-elastic-load-balancing-v2';
import { type Handler, type Out, ServiceModel } from '../service-model';
import { cidrContains } from '../util/cidr';
import { paginate } from '../util/pagination';
import { mergeTags, removeTags, type Tag } from '../util/tags';
import type {
  Elbv2State,
  HealthCheckSettings,
  ListenerRecord,
  LoadBalancerRecord,
  RuleRecord,
  TargetGroupRecord,
  TargetRecord,
} from './types';

const TERMINAL_ACTIONS = new Set(['forward', 'fixed-response', 'redirect']);
const CONDITION_FIELDS = new Set([
  'host-header',
  'path-pattern',
  'http-header',
  'http-request-method',
  'query-string',
  'source-ip',
]);
/** "Rules per Application Load Balancer (excluding default rules)": 100, not adjustable. */
const MAX_RULES_PER_LOAD_BALANCER = 100;

/** Descriptions ELB pairs with each reason code. */
export const TARGET_REASON_TEXT: Record<string, string> = {
  'Elb.RegistrationInProgress': 'Target registration is in progress',
  'Elb.InitialHealthChecking': 'Initial health checks in progress',
  'Target.NotInUse': 'Target group is not configured to receive traffic from the load balancer',
  'Target.NotRegistered': 'Target is not registered to the target group',
  'Target.DeregistrationInProgress': 'Target deregistration is in progress',
  'Target.Timeout': 'Request timed out',
  'Target.FailedHealthChecks': 'Health checks failed',
  'Target.ResponseCodeMismatch': 'Health checks failed with these codes: [500]',
};

/**
 * Elastic Load Balancing v2 (Application Load Balancers): load balancers with their nodes'
 * network interfaces, listeners, rules (the default rule carries the listener's default
 * actions), target groups, targets with health state, and tags.
 */
/** The page size DescribeRules answers with when the caller names none (undocumented by AWS). */
export const DESCRIBE_RULES_DEFAULT_PAGE = 20;

export class Elbv2Model extends ServiceModel<Elbv2State> {
  readonly service = 'ELBv2' as const;

  protected initialState(): Elbv2State {
    return { loadBalancers: {}, listeners: {}, rules: {}, targetGroups: {}, tags: {} };
  }

  handlers(): Record<string, Handler> {
    return {
      DescribeLoadBalancers: (i: DescribeLoadBalancersCommandInput) => this.describeLoadBalancers(i),
      DescribeListeners: (i: DescribeListenersCommandInput) => this.describeListeners(i),
      DescribeRules: (i: DescribeRulesCommandInput) => this.describeRules(i),
      ModifyRule: (i: ModifyRuleCommandInput) => this.modifyRule(i),
      CreateRule: (i: CreateRuleCommandInput) => this.createRule(i),
      DeleteRule: (i: DeleteRuleCommandInput) => this.deleteRule(i),
      DescribeTargetGroups: (i: DescribeTargetGroupsCommandInput) => this.describeTargetGroups(i),
      DescribeTargetHealth: (i: DescribeTargetHealthCommandInput) => this.describeTargetHealth(i),
      RegisterTargets: (i: RegisterTargetsCommandInput) => this.registerTargets(i),
      DeregisterTargets: (i: DeregisterTargetsCommandInput) => this.deregisterTargets(i),
      DescribeTags: (i: DescribeTagsCommandInput) => this.describeTags(i),
      AddTags: (i: AddTagsCommandInput) => this.addTags(i),
      RemoveTags: (i: RemoveTagsCommandInput) => this.removeTagsCommand(i),
    };
  }

  // ---- seeding helpers -------------------------------------------------------------

  /** An Application Load Balancer with one node (and interface) in each subnet. */
  createLoadBalancer(options: {
    name: string;
    subnetIds: string[];
    securityGroups: string[];
    scheme?: 'internet-facing' | 'internal';
    tags?: Tag[];
  }): LoadBalancerRecord {
    const id = this.model.ids.hex(16);
    const arn = this.arn('elasticloadbalancing', `loadbalancer/app/${options.name}/${id}`);
    const azs = options.subnetIds.map((subnetId) => {
      const eni = this.model.ec2.createNetworkInterface({
        subnetId,
        groups: options.securityGroups,
        description: `ELB app/${options.name}/${id}`,
        requesterId: 'amazon-elb',
        requesterManaged: true,
      });
      return {
        ZoneName: eni.AvailabilityZone,
        SubnetId: subnetId,
        NetworkInterfaceId: eni.NetworkInterfaceId,
      };
    });
    const firstSubnet = this.model.ec2.state.subnets[options.subnetIds[0] ?? ''];
    const lb: LoadBalancerRecord = {
      LoadBalancerArn: arn,
      LoadBalancerName: options.name,
      DNSName: `${options.name}-${this.model.ids.digits(10)}.${this.region}.elb.amazonaws.com`,
      CanonicalHostedZoneId: 'Z32O12XQLNTSW2',
      CreatedTime: this.now,
      Scheme: options.scheme ?? 'internet-facing',
      VpcId: firstSubnet?.VpcId ?? '',
      SecurityGroups: [...options.securityGroups],
      AvailabilityZones: azs,
    };
    this.state.loadBalancers[arn] = lb;
    this.state.tags[arn] = options.tags ?? [];
    return lb;
  }

  /** A listener and its default rule. */
  createListener(options: {
    loadBalancerArn: string;
    port: number;
    protocol?: 'HTTP' | 'HTTPS';
    defaultActions: Action[];
    tags?: Tag[];
  }): ListenerRecord {
    const lb = this.state.loadBalancers[options.loadBalancerArn];
    if (!lb) throw new Error(`aws-model: no load balancer ${options.loadBalancerArn}`);
    const lbPart = lb.LoadBalancerArn.split(':loadbalancer/')[1];
    const arn = this.arn('elasticloadbalancing', `listener/${lbPart}/${this.model.ids.hex(16)}`);
    const ruleArn = `${arn.replace(':listener/', ':listener-rule/')}/${this.model.ids.hex(16)}`;
    const listener: ListenerRecord = {
      ListenerArn: arn,
      LoadBalancerArn: lb.LoadBalancerArn,
      Port: options.port,
      Protocol: options.protocol ?? 'HTTP',
      DefaultRuleArn: ruleArn,
    };
    this.state.listeners[arn] = listener;
    this.state.rules[ruleArn] = {
      RuleArn: ruleArn,
      ListenerArn: arn,
      Priority: 'default',
      Conditions: [],
      Actions: this.normalizeActions(options.defaultActions),
      IsDefault: true,
    };
    this.state.tags[arn] = options.tags ?? [];
    this.state.tags[ruleArn] = [];
    return listener;
  }

  /** A target group (IP targets by default) with ALB's default health check settings. */
  createTargetGroup(options: {
    name: string;
    vpcId: string;
    port: number;
    protocol?: 'HTTP' | 'HTTPS';
    healthCheck?: Partial<HealthCheckSettings>;
    deregistrationDelaySeconds?: number;
    tags?: Tag[];
  }): TargetGroupRecord {
    const arn = this.arn('elasticloadbalancing', `targetgroup/${options.name}/${this.model.ids.hex(16)}`);
    const tg: TargetGroupRecord = {
      TargetGroupArn: arn,
      TargetGroupName: options.name,
      Protocol: options.protocol ?? 'HTTP',
      Port: options.port,
      VpcId: options.vpcId,
      TargetType: 'ip',
      HealthCheck: {
        HealthCheckProtocol: 'HTTP',
        HealthCheckPort: 'traffic-port',
        HealthCheckPath: '/',
        HealthCheckIntervalSeconds: 30,
        HealthCheckTimeoutSeconds: 5,
        HealthyThresholdCount: 5,
        UnhealthyThresholdCount: 2,
        Matcher: { HttpCode: '200' },
        ...options.healthCheck,
      },
      deregistrationDelaySeconds: options.deregistrationDelaySeconds ?? 300,
      targets: {},
    };
    this.state.targetGroups[arn] = tg;
    this.state.tags[arn] = options.tags ?? [];
    return tg;
  }

  /** A listener rule, as CreateRule makes it but without the API checks. */
  addRule(options: {
    listenerArn: string;
    priority: number;
    conditions: RuleCondition[];
    actions: Action[];
    tags?: Tag[];
  }): RuleRecord {
    const ruleArn = `${options.listenerArn.replace(':listener/', ':listener-rule/')}/${this.model.ids.hex(16)}`;
    const rule: RuleRecord = {
      RuleArn: ruleArn,
      ListenerArn: options.listenerArn,
      Priority: String(options.priority),
      Conditions: this.normalizeConditions(options.conditions),
      Actions: this.normalizeActions(options.actions),
      IsDefault: false,
    };
    this.state.rules[ruleArn] = rule;
    this.state.tags[ruleArn] = options.tags ?? [];
    return rule;
  }

  /** Registers a target directly (what ECS does for a service task). */
  register(targetGroupArn: string, id: string, port: number): void {
    const tg = this.state.targetGroups[targetGroupArn];
    if (!tg) throw new Error(`aws-model: no target group ${targetGroupArn}`);
    this.addTarget(tg, id, port);
  }

  /** Starts draining a target (ECS deregisters a task this way). */
  deregister(targetGroupArn: string, id: string, port: number): void {
    const tg = this.state.targetGroups[targetGroupArn];
    const target = tg?.targets[`${id}:${port}`];
    if (!tg || !target) return;
    this.drain(tg, target);
  }

  /** A registered target (undefined if not registered). */
  target(targetGroupArn: string, id: string, port: number): TargetRecord | undefined {
    return this.state.targetGroups[targetGroupArn]?.targets[`${id}:${port}`];
  }

  /** Marks a registered target healthy at once (seeding a running fleet). */
  markHealthy(targetGroupArn: string, id: string, port: number): void {
    const target = this.target(targetGroupArn, id, port);
    if (!target) return;
    target.state = 'healthy';
    target.reason = undefined;
    target.description = undefined;
  }

  /** Every target group that some listener rule forwards to, with its load balancers. */
  attachmentIndex(): Map<string, LoadBalancerRecord[]> {
    const index = new Map<string, LoadBalancerRecord[]>();
    for (const rule of Object.values(this.state.rules)) {
      const lb = this.state.loadBalancers[this.state.listeners[rule.ListenerArn]?.LoadBalancerArn ?? ''];
      if (!lb) continue;
      for (const arn of forwardTargets(rule.Actions)) {
        const list = index.get(arn) ?? [];
        if (!list.includes(lb)) list.push(lb);
        index.set(arn, list);
      }
    }
    return index;
  }

  /** Load balancers that forward to the target group through some listener rule. */
  loadBalancersUsing(targetGroupArn: string): LoadBalancerRecord[] {
    const arns = new Set<string>();
    for (const rule of Object.values(this.state.rules)) {
      if (forwardTargets(rule.Actions).includes(targetGroupArn)) {
        const listener = this.state.listeners[rule.ListenerArn];
        if (listener) arns.add(listener.LoadBalancerArn);
      }
    }
    return [...arns].flatMap((arn) => {
      const lb = this.state.loadBalancers[arn];
      return lb ? [lb] : [];
    });
  }

  // ---- helpers ------------------------------------------------------------------

  private addTarget(tg: TargetGroupRecord, id: string, port: number, az?: string): void {
    const key = `${id}:${port}`;
    const existing = tg.targets[key];
    if (existing && existing.state !== 'draining') return;
    tg.targets[key] = {
      Id: id,
      Port: port,
      AvailabilityZone: az,
      state: 'initial',
      reason: 'Elb.RegistrationInProgress',
      description: TARGET_REASON_TEXT['Elb.RegistrationInProgress'],
      passed: 0,
      failed: 0,
      nextCheckAt: this.now + tg.HealthCheck.HealthCheckIntervalSeconds * 1000,
      registeredAt: this.now,
    };
  }

  private drain(tg: TargetGroupRecord, target: TargetRecord): void {
    const key = `${target.Id}:${target.Port}`;
    if (this.loadBalancersUsing(tg.TargetGroupArn).length === 0 || tg.deregistrationDelaySeconds === 0) {
      delete tg.targets[key];
      return;
    }
    target.state = 'draining';
    target.reason = 'Target.DeregistrationInProgress';
    target.description = TARGET_REASON_TEXT['Target.DeregistrationInProgress'];
    target.drainingUntil = this.now + tg.deregistrationDelaySeconds * 1000;
  }

  private normalizeActions(actions: readonly Action[] | undefined): Action[] {
    return (actions ?? []).map((a, i) => {
      const action: Action = { ...a, Order: a.Order ?? i + 1 };
      if (a.Type === 'forward') {
        const groups =
          a.ForwardConfig?.TargetGroups ?? (a.TargetGroupArn ? [{ TargetGroupArn: a.TargetGroupArn }] : []);
        action.ForwardConfig = {
          TargetGroups: groups.map((g) => ({
            TargetGroupArn: g.TargetGroupArn,
            Weight: g.Weight ?? 1,
          })),
          TargetGroupStickinessConfig: a.ForwardConfig?.TargetGroupStickinessConfig ?? {
            Enabled: false,
          },
        };
        if (!a.TargetGroupArn && groups.length === 1) action.TargetGroupArn = groups[0]?.TargetGroupArn;
      }
      return action;
    });
  }

  private normalizeConditions(conditions: readonly RuleCondition[] | undefined): RuleCondition[] {
    return (conditions ?? []).map((c) => {
      if (c.Field === 'host-header') {
        const values = c.HostHeaderConfig?.Values ?? c.Values ?? [];
        return { Field: c.Field, Values: values, HostHeaderConfig: { Values: values } };
      }
      if (c.Field === 'path-pattern') {
        const values = c.PathPatternConfig?.Values ?? c.Values ?? [];
        return { Field: c.Field, Values: values, PathPatternConfig: { Values: values } };
      }
      return { ...c };
    });
  }

  /** ELB's checks on a rule's actions and conditions. */
  private validateRule(
    listener: ListenerRecord,
    actions: readonly Action[] | undefined,
    conditions: readonly RuleCondition[] | undefined,
  ): void {
    if (actions) {
      const terminal = actions.filter((a) => TERMINAL_ACTIONS.has(a.Type ?? ''));
      if (terminal.length !== 1) {
        this.fail(
          'InvalidLoadBalancerAction',
          'A rule must have exactly one forward, fixed-response or redirect action',
        );
      }
      for (const action of actions) {
        if (action.Type === 'fixed-response') {
          const code = action.FixedResponseConfig?.StatusCode ?? '';
          if (!/^[245]\d\d$/.test(code)) {
            this.fail(
              'ValidationError',
              `1 validation error detected: Value '${code}' at 'actions.1.member.fixedResponseConfig.statusCode' failed to satisfy constraint: Member must satisfy regular expression pattern: ^(2|4|5)\\d\\d$`,
            );
          }
        }
        for (const arn of forwardTargets([action])) {
          if (!this.state.targetGroups[arn]) this.fail('TargetGroupNotFound', `One or more target groups not found`);
          const others = this.loadBalancersUsing(arn).filter((lb) => lb.LoadBalancerArn !== listener.LoadBalancerArn);
          if (others.length) {
            this.fail(
              'TargetGroupAssociationLimit',
              `The following target groups cannot be associated with more than one load balancer: ${arn}`,
            );
          }
        }
      }
    }
    for (const condition of conditions ?? []) {
      if (!CONDITION_FIELDS.has(condition.Field ?? '')) {
        this.fail('ValidationError', `Condition field '${condition.Field}' is not supported`);
      }
    }
  }

  private toRule(rule: RuleRecord): Rule {
    return {
      RuleArn: rule.RuleArn,
      Priority: rule.Priority,
      Conditions: rule.Conditions,
      Actions: rule.Actions,
      IsDefault: rule.IsDefault,
    };
  }

  private notFoundFor(arn: string): never {
    if (arn.includes(':listener-rule/')) return this.fail('RuleNotFound', 'One or more rules not found');
    if (arn.includes(':listener/')) return this.fail('ListenerNotFound', 'One or more listeners not found');
    if (arn.includes(':targetgroup/')) return this.fail('TargetGroupNotFound', 'One or more target groups not found');
    if (arn.includes(':loadbalancer/'))
      return this.fail('LoadBalancerNotFound', 'One or more load balancers not found');
    return this.fail('ValidationError', `'${arn}' is not a valid load balancer resource ARN`);
  }

  private exists(arn: string): boolean {
    return Boolean(
      this.state.loadBalancers[arn] ??
      this.state.listeners[arn] ??
      this.state.rules[arn] ??
      this.state.targetGroups[arn],
    );
  }

  // ---- commands -----------------------------------------------------------------

  private describeLoadBalancers(input: DescribeLoadBalancersCommandInput): Out<DescribeLoadBalancersCommandOutput> {
    const all = Object.values(this.state.loadBalancers);
    let selected = all;
    if (input.LoadBalancerArns?.length) {
      selected = input.LoadBalancerArns.map((arn) => this.state.loadBalancers[arn] ?? this.notFoundFor(arn));
    } else if (input.Names?.length) {
      selected = input.Names.map(
        (name) =>
          all.find((lb) => lb.LoadBalancerName === name) ??
          this.fail('LoadBalancerNotFound', `Load balancers '[${name}]' not found`),
      );
    }
    const out: LoadBalancer[] = selected.map((lb) => ({
      LoadBalancerArn: lb.LoadBalancerArn,
      LoadBalancerName: lb.LoadBalancerName,
      DNSName: lb.DNSName,
      CanonicalHostedZoneId: lb.CanonicalHostedZoneId,
      CreatedTime: new Date(lb.CreatedTime),
      Scheme: lb.Scheme,
      VpcId: lb.VpcId,
      State: { Code: 'active' },
      Type: 'application',
      AvailabilityZones: lb.AvailabilityZones.map((az) => ({
        ZoneName: az.ZoneName,
        SubnetId: az.SubnetId,
      })),
      SecurityGroups: [...lb.SecurityGroups],
      IpAddressType: 'ipv4',
    }));
    const page = paginate(out, input.PageSize, input.Marker, 400);
    if (!page) return this.fail('ValidationError', 'Invalid marker');
    return { LoadBalancers: page.items, NextMarker: page.nextToken };
  }

  private describeListeners(input: DescribeListenersCommandInput): Out<DescribeListenersCommandOutput> {
    let listeners: ListenerRecord[];
    if (input.ListenerArns?.length) {
      listeners = input.ListenerArns.map((arn) => this.state.listeners[arn] ?? this.notFoundFor(arn));
    } else if (input.LoadBalancerArn) {
      if (!this.state.loadBalancers[input.LoadBalancerArn]) this.notFoundFor(input.LoadBalancerArn);
      listeners = Object.values(this.state.listeners).filter((l) => l.LoadBalancerArn === input.LoadBalancerArn);
    } else {
      return this.fail('ValidationError', 'You must specify either listener ARNs or a load balancer ARN');
    }
    const out: Listener[] = listeners.map((l) => ({
      ListenerArn: l.ListenerArn,
      LoadBalancerArn: l.LoadBalancerArn,
      Port: l.Port,
      Protocol: l.Protocol,
      DefaultActions: this.state.rules[l.DefaultRuleArn]?.Actions ?? [],
      Certificates: l.CertificateArn ? [{ CertificateArn: l.CertificateArn }] : undefined,
    }));
    const page = paginate(out, input.PageSize, input.Marker, 400);
    if (!page) return this.fail('ValidationError', 'Invalid marker');
    return { Listeners: page.items, NextMarker: page.nextToken };
  }

  private describeRules(input: DescribeRulesCommandInput): Out<DescribeRulesCommandOutput> {
    let rules: RuleRecord[];
    if (input.RuleArns?.length) {
      rules = input.RuleArns.map((arn) => this.state.rules[arn] ?? this.notFoundFor(arn));
    } else if (input.ListenerArn) {
      if (!this.state.listeners[input.ListenerArn]) this.notFoundFor(input.ListenerArn);
      rules = Object.values(this.state.rules)
        .filter((r) => r.ListenerArn === input.ListenerArn)
        .sort((a, b) => priorityOrder(a) - priorityOrder(b));
    } else {
      return this.fail('ValidationError', 'You must specify either listener rule ARNs or a listener ARN');
    }
    // DescribeRules: "PageSize: The maximum number of results to return with this call";
    // "NextMarker: If there are additional results, this is the marker for the next set of
    // results." The reference names no default page size, so the model's is small (20): a
    // caller that reads only the first page of a listener's rules is caught.
    if (input.PageSize !== undefined && (input.PageSize < 1 || input.PageSize > 400)) {
      this.fail('ValidationError', 'PageSize must be between 1 and 400');
    }
    const page = paginate(
      rules.map((r) => this.toRule(r)),
      input.PageSize,
      input.Marker,
      DESCRIBE_RULES_DEFAULT_PAGE,
    );
    if (!page) return this.fail('ValidationError', 'Invalid marker');
    return { Rules: page.items, NextMarker: page.nextToken };
  }

  /**
   * ModifyRule replaces the actions and/or conditions. A fixed-response action in place of a
   * forward detaches the previously forwarded target group (its targets become `unused`).
   */
  private modifyRule(input: ModifyRuleCommandInput): Out<ModifyRuleCommandOutput> {
    const rule = this.state.rules[input.RuleArn ?? ''] ?? this.notFoundFor(input.RuleArn ?? '');
    if (rule.IsDefault && input.Conditions) {
      this.fail('OperationNotPermitted', 'You cannot modify the conditions of a default rule');
    }
    const listener = this.state.listeners[rule.ListenerArn];
    if (!listener) return this.notFoundFor(rule.ListenerArn);
    this.validateRule(listener, input.Actions, input.Conditions);
    if (input.Actions) rule.Actions = this.normalizeActions(input.Actions);
    if (input.Conditions) rule.Conditions = this.normalizeConditions(input.Conditions);
    return { Rules: [this.toRule(rule)] };
  }

  private createRule(input: CreateRuleCommandInput): Out<CreateRuleCommandOutput> {
    const listener = this.state.listeners[input.ListenerArn ?? ''] ?? this.notFoundFor(input.ListenerArn ?? '');
    const priority = input.Priority ?? 0;
    if (!Number.isInteger(priority) || priority < 1 || priority > 50000) {
      this.fail(
        'ValidationError',
        `1 validation error detected: Value '${priority}' at 'priority' failed to satisfy constraint: Member must have value between 1 and 50000`,
      );
    }
    if (!input.Conditions?.length) this.fail('ValidationError', 'A rule must have at least one condition');
    const listenerRules = Object.values(this.state.rules).filter((r) => r.ListenerArn === listener.ListenerArn);
    if (listenerRules.some((r) => r.Priority === String(priority))) {
      this.fail('PriorityInUse', `Priority '${priority}' is currently in use`);
    }
    const lbRules = Object.values(this.state.rules).filter(
      (r) => !r.IsDefault && this.state.listeners[r.ListenerArn]?.LoadBalancerArn === listener.LoadBalancerArn,
    );
    if (lbRules.length >= MAX_RULES_PER_LOAD_BALANCER) {
      this.fail('TooManyRules', 'You’ve reached the limit on the number of rules per load balancer');
    }
    this.validateRule(listener, input.Actions, input.Conditions);
    const rule = this.addRule({
      listenerArn: listener.ListenerArn,
      priority,
      conditions: input.Conditions ?? [],
      actions: input.Actions ?? [],
      tags: (input.Tags ?? []).map((t) => ({ Key: t.Key ?? '', Value: t.Value ?? '' })),
    });
    return { Rules: [this.toRule(rule)] };
  }

  private deleteRule(input: DeleteRuleCommandInput): Out<DeleteRuleCommandOutput> {
    const rule = this.state.rules[input.RuleArn ?? ''] ?? this.notFoundFor(input.RuleArn ?? '');
    if (rule.IsDefault) this.fail('OperationNotPermitted', 'Default rule cannot be deleted');
    delete this.state.rules[rule.RuleArn];
    delete this.state.tags[rule.RuleArn];
    return {};
  }

  private describeTargetGroups(input: DescribeTargetGroupsCommandInput): Out<DescribeTargetGroupsCommandOutput> {
    let groups = Object.values(this.state.targetGroups);
    if (input.TargetGroupArns?.length) {
      groups = input.TargetGroupArns.map((arn) => this.state.targetGroups[arn] ?? this.notFoundFor(arn));
    } else if (input.Names?.length) {
      groups = input.Names.map(
        (name) =>
          groups.find((g) => g.TargetGroupName === name) ??
          this.fail('TargetGroupNotFound', `Target groups '[${name}]' not found`),
      );
    } else if (input.LoadBalancerArn) {
      if (!this.state.loadBalancers[input.LoadBalancerArn]) this.notFoundFor(input.LoadBalancerArn);
      groups = groups.filter((g) =>
        this.loadBalancersUsing(g.TargetGroupArn).some((lb) => lb.LoadBalancerArn === input.LoadBalancerArn),
      );
    }
    const out: TargetGroup[] = groups.map((g) => ({
      TargetGroupArn: g.TargetGroupArn,
      TargetGroupName: g.TargetGroupName,
      Protocol: g.Protocol,
      Port: g.Port,
      VpcId: g.VpcId,
      HealthCheckEnabled: true,
      ...g.HealthCheck,
      LoadBalancerArns: this.loadBalancersUsing(g.TargetGroupArn).map((lb) => lb.LoadBalancerArn),
      TargetType: g.TargetType,
      ProtocolVersion: 'HTTP1',
      IpAddressType: 'ipv4',
    }));
    const page = paginate(out, input.PageSize, input.Marker, 400);
    if (!page) return this.fail('ValidationError', 'Invalid marker');
    return { TargetGroups: page.items, NextMarker: page.nextToken };
  }

  private describeTargetHealth(input: DescribeTargetHealthCommandInput): Out<DescribeTargetHealthCommandOutput> {
    const tg = this.state.targetGroups[input.TargetGroupArn ?? ''] ?? this.notFoundFor(input.TargetGroupArn ?? '');
    const port = tg.HealthCheck.HealthCheckPort;
    // Whether the group is in use is answered live, not at the next health check.
    const inUse = this.loadBalancersUsing(tg.TargetGroupArn).length > 0;
    const describe = (t: TargetRecord): TargetHealthDescription => ({
      Target: {
        Id: t.Id,
        Port: t.Port,
        AvailabilityZone: t.AvailabilityZone ?? this.azOf(tg, t.Id),
      },
      HealthCheckPort: port === 'traffic-port' ? String(t.Port) : port,
      TargetHealth:
        !inUse && t.state !== 'draining'
          ? { State: 'unused', Reason: 'Target.NotInUse', Description: TARGET_REASON_TEXT['Target.NotInUse'] }
          : t.state === 'healthy'
            ? { State: 'healthy' }
            : { State: t.state, Reason: t.reason as never, Description: t.description },
    });
    if (input.Targets?.length) {
      return {
        TargetHealthDescriptions: input.Targets.map((wanted) => {
          const target = tg.targets[`${wanted.Id}:${wanted.Port ?? tg.Port}`];
          if (target) return describe(target);
          return {
            Target: { Id: wanted.Id, Port: wanted.Port ?? tg.Port },
            HealthCheckPort: String(wanted.Port ?? tg.Port),
            TargetHealth: {
              State: 'unused',
              Reason: 'Target.NotRegistered',
              Description: TARGET_REASON_TEXT['Target.NotRegistered'],
            },
          };
        }),
      };
    }
    return { TargetHealthDescriptions: Object.values(tg.targets).map(describe) };
  }

  private azOf(tg: TargetGroupRecord, ip: string): string | undefined {
    return this.model.ec2.subnetForIp(ip, tg.VpcId)?.AvailabilityZone;
  }

  private registerTargets(input: RegisterTargetsCommandInput): Out<RegisterTargetsCommandOutput> {
    const tg = this.state.targetGroups[input.TargetGroupArn ?? ''] ?? this.notFoundFor(input.TargetGroupArn ?? '');
    const vpc = this.model.ec2.state.vpcs[tg.VpcId];
    for (const target of input.Targets ?? []) {
      if (tg.TargetType === 'ip' && vpc && !cidrContains(vpc.CidrBlock, target.Id ?? '')) {
        this.fail(
          'InvalidTarget',
          `The IP address '${target.Id}' is not within the VPC of target group '${tg.TargetGroupArn}'`,
        );
      }
    }
    for (const target of input.Targets ?? []) {
      this.addTarget(tg, target.Id ?? '', target.Port ?? tg.Port, target.AvailabilityZone);
    }
    return {};
  }

  private deregisterTargets(input: DeregisterTargetsCommandInput): Out<DeregisterTargetsCommandOutput> {
    const tg = this.state.targetGroups[input.TargetGroupArn ?? ''] ?? this.notFoundFor(input.TargetGroupArn ?? '');
    const found = (input.Targets ?? []).map((t) => {
      const target = tg.targets[`${t.Id}:${t.Port ?? tg.Port}`];
      if (!target) {
        this.fail(
          'InvalidTarget',
          `The following targets are not registered in target group '${tg.TargetGroupArn}': '${t.Id}'`,
        );
      }
      return target;
    });
    for (const target of found) this.drain(tg, target);
    return {};
  }

  private describeTags(input: DescribeTagsCommandInput): Out<DescribeTagsCommandOutput> {
    const arns = input.ResourceArns ?? [];
    if (arns.length > 20) this.fail('ValidationError', 'ResourceArns must contain at most 20 items');
    return {
      TagDescriptions: arns.map((arn) => {
        if (!this.exists(arn)) this.notFoundFor(arn);
        return { ResourceArn: arn, Tags: (this.state.tags[arn] ?? []).map((t) => ({ ...t })) };
      }),
    };
  }

  private addTags(input: AddTagsCommandInput): Out<AddTagsCommandOutput> {
    const keys = (input.Tags ?? []).map((t) => t.Key ?? '');
    const duplicate = keys.find((k, i) => keys.indexOf(k) !== i);
    if (duplicate !== undefined) this.fail('DuplicateTagKeys', `Tag key '${duplicate}' specified more than once`);
    for (const arn of input.ResourceArns ?? []) {
      if (!this.exists(arn)) this.notFoundFor(arn);
      if (mergeTags(this.state.tags[arn] ?? [], input.Tags ?? []).length > 50) {
        this.fail(
          'TooManyTags',
          'The quota for the number of tags that can be assigned to a load balancer has been reached',
        );
      }
    }
    for (const arn of input.ResourceArns ?? []) {
      this.state.tags[arn] = mergeTags(this.state.tags[arn] ?? [], input.Tags ?? []);
    }
    return {};
  }

  private removeTagsCommand(input: RemoveTagsCommandInput): Out<RemoveTagsCommandOutput> {
    for (const arn of input.ResourceArns ?? []) {
      if (!this.exists(arn)) this.notFoundFor(arn);
    }
    for (const arn of input.ResourceArns ?? []) {
      this.state.tags[arn] = removeTags(
        this.state.tags[arn] ?? [],
        (input.TagKeys ?? []).map((Key) => ({ Key })),
      );
    }
    return {};
  }
}

/** Target group ARNs a set of actions forwards to. */
export function forwardTargets(actions: readonly Action[]): string[] {
  return actions
    .filter((a) => a.Type === 'forward')
    .flatMap((a) => [
      ...(a.TargetGroupArn ? [a.TargetGroupArn] : []),
      ...(a.ForwardConfig?.TargetGroups ?? []).flatMap((g) => (g.TargetGroupArn ? [g.TargetGroupArn] : [])),
    ])
    .filter((arn, i, all) => all.indexOf(arn) === i);
}

function priorityOrder(rule: RuleRecord): number {
  return rule.IsDefault ? Number.POSITIVE_INFINITY : Number(rule.Priority);
}
