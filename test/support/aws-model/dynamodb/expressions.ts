import { RESERVED_WORDS } from './reserved-words';

/** One step of a document path: an attribute name or a list index. */
export type PathSegment = { kind: 'name'; name: string } | { kind: 'index'; index: number };

export interface Path {
  segments: PathSegment[];
  /** The path as written, for error messages. */
  text: string;
}

export type Operand = { kind: 'path'; path: Path } | { kind: 'value'; name: string } | { kind: 'size'; path: Path };

export type Comparator = '=' | '<>' | '<' | '<=' | '>' | '>=';

export type Condition =
  | { kind: 'and' | 'or'; left: Condition; right: Condition }
  | { kind: 'not'; operand: Condition }
  | { kind: 'compare'; op: Comparator; left: Operand; right: Operand }
  | { kind: 'between'; operand: Operand; low: Operand; high: Operand }
  | { kind: 'in'; operand: Operand; list: Operand[] }
  | {
      kind: 'function';
      name: 'attribute_exists' | 'attribute_not_exists' | 'attribute_type' | 'begins_with' | 'contains';
      args: Operand[];
    };

export type SetValue =
  | { kind: 'operand'; operand: Operand }
  | { kind: 'plus' | 'minus'; left: SetValue; right: SetValue }
  | { kind: 'if_not_exists'; path: Path; fallback: SetValue }
  | { kind: 'list_append'; left: SetValue; right: SetValue };

export type UpdateAction =
  | { kind: 'SET'; path: Path; value: SetValue }
  | { kind: 'REMOVE'; path: Path }
  | { kind: 'ADD' | 'DELETE'; path: Path; value: Operand };

/** Thrown for any malformed expression; the service turns it into a ValidationException. */
export class ExpressionError extends Error {}

type TokenKind = 'ident' | 'name' | 'value' | 'number' | 'punct' | 'eof';
interface Token {
  kind: TokenKind;
  text: string;
  pos: number;
}

const PUNCT = ['<>', '<=', '>=', '=', '<', '>', '(', ')', '[', ']', ',', '.', '+', '-'];

function lex(source: string, label: string): Token[] {
  const tokens: Token[] = [];
  let i = 0;
  while (i < source.length) {
    const ch = source[i] ?? '';
    if (/\s/.test(ch)) {
      i++;
      continue;
    }
    const rest = source.slice(i);
    const punct = PUNCT.find((p) => rest.startsWith(p));
    if (punct) {
      tokens.push({ kind: 'punct', text: punct, pos: i });
      i += punct.length;
      continue;
    }
    const m =
      /^#[A-Za-z0-9_]+/.exec(rest) ??
      /^:[A-Za-z0-9_]+/.exec(rest) ??
      /^[0-9]+/.exec(rest) ??
      /^[A-Za-z_][A-Za-z0-9_]*/.exec(rest);
    if (!m) {
      throw new ExpressionError(
        `Invalid ${label}: Syntax error; token: "${ch}", near: "${source.slice(Math.max(0, i - 5), i + 5)}"`,
      );
    }
    const text = m[0];
    const kind: TokenKind = text.startsWith('#')
      ? 'name'
      : text.startsWith(':')
        ? 'value'
        : /^[0-9]/.test(text)
          ? 'number'
          : 'ident';
    tokens.push({ kind, text, pos: i });
    i += text.length;
  }
  tokens.push({ kind: 'eof', text: '<EOF>', pos: source.length });
  return tokens;
}

const KEYWORDS = new Set(['AND', 'OR', 'NOT', 'BETWEEN', 'IN', 'SET', 'REMOVE', 'ADD', 'DELETE']);
const CONDITION_FUNCTIONS = new Set([
  'attribute_exists',
  'attribute_not_exists',
  'attribute_type',
  'begins_with',
  'contains',
]);

/** Placeholders an expression used, for the unused-placeholder checks. */
export interface Usage {
  names: Set<string>;
  values: Set<string>;
}

/**
 * A recursive-descent parser for DynamoDB's expression language: condition (and filter /
 * key condition) expressions, update expressions and projection expressions. Attribute
 * name placeholders are resolved while parsing; value placeholders are checked to exist.
 */
class Parser {
  private tokens: Token[];
  private i = 0;

  constructor(
    private readonly source: string,
    private readonly label: string,
    private readonly names: Record<string, string> | undefined,
    private readonly values: Record<string, unknown> | undefined,
    private readonly usage: Usage,
  ) {
    this.tokens = lex(source, label);
  }

  private peek(offset = 0): Token {
    return this.tokens[Math.min(this.i + offset, this.tokens.length - 1)] as Token;
  }

  private next(): Token {
    const t = this.peek();
    this.i++;
    return t;
  }

  private isKeyword(word: string, offset = 0): boolean {
    const t = this.peek(offset);
    return t.kind === 'ident' && t.text.toUpperCase() === word;
  }

  private isPunct(text: string): boolean {
    const t = this.peek();
    return t.kind === 'punct' && t.text === text;
  }

  private syntaxError(token = this.peek()): never {
    const near = this.source.slice(Math.max(0, token.pos - 10), token.pos + token.text.length + 5).trim();
    throw new ExpressionError(`Invalid ${this.label}: Syntax error; token: "${token.text}", near: "${near}"`);
  }

  private expectPunct(text: string): void {
    if (!this.isPunct(text)) this.syntaxError();
    this.i++;
  }

  atEnd(): boolean {
    return this.peek().kind === 'eof';
  }

  expectEnd(): void {
    if (!this.atEnd()) this.syntaxError();
  }

  // ---- paths and operands --------------------------------------------------------

  private attributeName(): string {
    const t = this.next();
    if (t.kind === 'name') {
      this.usage.names.add(t.text);
      const resolved = this.names?.[t.text];
      if (resolved === undefined) {
        throw new ExpressionError(
          `Invalid ${this.label}: An expression attribute name used in the document path is not defined; attribute name: ${t.text}`,
        );
      }
      return resolved;
    }
    if (t.kind === 'ident') {
      if (KEYWORDS.has(t.text.toUpperCase()) || RESERVED_WORDS.has(t.text.toUpperCase())) {
        throw new ExpressionError(
          `Invalid ${this.label}: Attribute name is a reserved keyword; reserved keyword: ${t.text}`,
        );
      }
      return t.text;
    }
    return this.syntaxError(t);
  }

  path(): Path {
    const start = this.peek().pos;
    const segments: PathSegment[] = [{ kind: 'name', name: this.attributeName() }];
    for (;;) {
      if (this.isPunct('.')) {
        this.i++;
        segments.push({ kind: 'name', name: this.attributeName() });
      } else if (this.isPunct('[')) {
        this.i++;
        const n = this.next();
        if (n.kind !== 'number') this.syntaxError(n);
        this.expectPunct(']');
        segments.push({ kind: 'index', index: Number(n.text) });
      } else {
        break;
      }
    }
    const end = this.peek().pos;
    return { segments, text: this.source.slice(start, end).trim() };
  }

  private valueRef(): Operand {
    const t = this.next();
    this.usage.values.add(t.text);
    if (this.values?.[t.text] === undefined) {
      throw new ExpressionError(
        `Invalid ${this.label}: An expression attribute value used in expression is not defined; attribute value: ${t.text}`,
      );
    }
    return { kind: 'value', name: t.text };
  }

  operand(): Operand {
    const t = this.peek();
    if (t.kind === 'value') return this.valueRef();
    if (t.kind === 'ident' && this.peek(1).kind === 'punct' && this.peek(1).text === '(') {
      if (t.text !== 'size') {
        throw new ExpressionError(`Invalid ${this.label}: Invalid function name; function: ${t.text}`);
      }
      this.i += 2;
      const path = this.path();
      this.expectPunct(')');
      return { kind: 'size', path };
    }
    if (t.kind === 'ident' || t.kind === 'name') return { kind: 'path', path: this.path() };
    return this.syntaxError(t);
  }

  // ---- conditions ----------------------------------------------------------------

  condition(): Condition {
    let left = this.conjunction();
    while (this.isKeyword('OR')) {
      this.i++;
      left = { kind: 'or', left, right: this.conjunction() };
    }
    return left;
  }

  private conjunction(): Condition {
    let left = this.negation();
    while (this.isKeyword('AND')) {
      this.i++;
      left = { kind: 'and', left, right: this.negation() };
    }
    return left;
  }

  private negation(): Condition {
    if (this.isKeyword('NOT')) {
      this.i++;
      return { kind: 'not', operand: this.negation() };
    }
    return this.primary();
  }

  private primary(): Condition {
    if (this.isPunct('(')) {
      this.i++;
      const inner = this.condition();
      this.expectPunct(')');
      return inner;
    }
    const t = this.peek();
    if (t.kind === 'ident' && this.peek(1).kind === 'punct' && this.peek(1).text === '(' && t.text !== 'size') {
      if (!CONDITION_FUNCTIONS.has(t.text)) {
        throw new ExpressionError(`Invalid ${this.label}: Invalid function name; function: ${t.text}`);
      }
      this.i += 2;
      const args: Operand[] = [];
      if (!this.isPunct(')')) {
        args.push(this.operand());
        while (this.isPunct(',')) {
          this.i++;
          args.push(this.operand());
        }
      }
      this.expectPunct(')');
      const name = t.text as Extract<Condition, { kind: 'function' }>['name'];
      const arity = name === 'attribute_exists' || name === 'attribute_not_exists' ? 1 : 2;
      if (args.length !== arity) {
        throw new ExpressionError(
          `Invalid ${this.label}: Incorrect number of operands for operator or function; operator or function: ${name}, number of operands: ${args.length}`,
        );
      }
      if (args[0]?.kind !== 'path') {
        throw new ExpressionError(
          `Invalid ${this.label}: Operator or function requires a document path; operator or function: ${name}`,
        );
      }
      return { kind: 'function', name, args };
    }
    const left = this.operand();
    const op = this.peek();
    if (op.kind === 'punct' && ['=', '<>', '<', '<=', '>', '>='].includes(op.text)) {
      this.i++;
      return { kind: 'compare', op: op.text as Comparator, left, right: this.operand() };
    }
    if (this.isKeyword('BETWEEN')) {
      this.i++;
      const low = this.operand();
      if (!this.isKeyword('AND')) this.syntaxError();
      this.i++;
      return { kind: 'between', operand: left, low, high: this.operand() };
    }
    if (this.isKeyword('IN')) {
      this.i++;
      this.expectPunct('(');
      const list = [this.operand()];
      while (this.isPunct(',')) {
        this.i++;
        list.push(this.operand());
      }
      this.expectPunct(')');
      return { kind: 'in', operand: left, list };
    }
    return this.syntaxError(op);
  }

  // ---- updates --------------------------------------------------------------------

  update(): UpdateAction[] {
    const actions: UpdateAction[] = [];
    const seen = new Set<string>();
    if (this.atEnd()) this.syntaxError();
    while (!this.atEnd()) {
      const t = this.next();
      const clause = t.kind === 'ident' ? t.text.toUpperCase() : '';
      if (!['SET', 'REMOVE', 'ADD', 'DELETE'].includes(clause)) this.syntaxError(t);
      if (seen.has(clause)) {
        throw new ExpressionError(
          `Invalid ${this.label}: The "${clause}" section can only be used once in an update expression;`,
        );
      }
      seen.add(clause);
      do {
        if (actions.length && this.isPunct(',')) this.i++;
        const path = this.path();
        if (clause === 'SET') {
          this.expectPunct('=');
          actions.push({ kind: 'SET', path, value: this.setValue() });
        } else if (clause === 'REMOVE') {
          actions.push({ kind: 'REMOVE', path });
        } else {
          actions.push({ kind: clause as 'ADD' | 'DELETE', path, value: this.operand() });
        }
      } while (this.isPunct(','));
    }
    return actions;
  }

  private setValue(): SetValue {
    const left = this.setOperand();
    if (this.isPunct('+') || this.isPunct('-')) {
      const op = this.next().text === '+' ? 'plus' : 'minus';
      return { kind: op, left, right: this.setOperand() };
    }
    return left;
  }

  private setOperand(): SetValue {
    const t = this.peek();
    if (t.kind === 'ident' && this.peek(1).kind === 'punct' && this.peek(1).text === '(') {
      this.i += 2;
      if (t.text === 'if_not_exists') {
        const path = this.path();
        this.expectPunct(',');
        const fallback = this.setValue();
        this.expectPunct(')');
        return { kind: 'if_not_exists', path, fallback };
      }
      if (t.text === 'list_append') {
        const left = this.setValue();
        this.expectPunct(',');
        const right = this.setValue();
        this.expectPunct(')');
        return { kind: 'list_append', left, right };
      }
      throw new ExpressionError(`Invalid ${this.label}: Invalid function name; function: ${t.text}`);
    }
    if (t.kind === 'value') return { kind: 'operand', operand: this.valueRef() };
    if (t.kind === 'ident' || t.kind === 'name')
      return { kind: 'operand', operand: { kind: 'path', path: this.path() } };
    return this.syntaxError(t);
  }

  projection(): Path[] {
    const paths = [this.path()];
    while (this.isPunct(',')) {
      this.i++;
      paths.push(this.path());
    }
    return paths;
  }
}

/** The placeholder maps of a request. */
export interface ExpressionContext {
  names?: Record<string, string>;
  values?: Record<string, unknown>;
  usage: Usage;
}

export function newUsage(): Usage {
  return { names: new Set(), values: new Set() };
}

export function parseCondition(source: string, label: string, ctx: ExpressionContext): Condition {
  if (!source.trim()) throw new ExpressionError(`Invalid ${label}: The expression can not be empty;`);
  const p = new Parser(source, label, ctx.names, ctx.values, ctx.usage);
  const c = p.condition();
  p.expectEnd();
  return c;
}

export function parseUpdate(source: string, ctx: ExpressionContext): UpdateAction[] {
  const p = new Parser(source, 'UpdateExpression', ctx.names, ctx.values, ctx.usage);
  return p.update();
}

export function parseProjection(source: string, ctx: ExpressionContext): Path[] {
  const p = new Parser(source, 'ProjectionExpression', ctx.names, ctx.values, ctx.usage);
  const paths = p.projection();
  p.expectEnd();
  return paths;
}

/**
 * DynamoDB rejects placeholders that no expression of the request used.
 * Returns the error message, or undefined.
 */
export function unusedPlaceholders(ctx: ExpressionContext): string | undefined {
  const unusedValues = Object.keys(ctx.values ?? {}).filter((k) => !ctx.usage.values.has(k));
  if (unusedValues.length) {
    return `Value provided in ExpressionAttributeValues unused in expressions: keys: {${unusedValues.join(', ')}}`;
  }
  const unusedNames = Object.keys(ctx.names ?? {}).filter((k) => !ctx.usage.names.has(k));
  if (unusedNames.length) {
    return `Value provided in ExpressionAttributeNames unused in expressions: keys: {${unusedNames.join(', ')}}`;
  }
  return undefined;
}
