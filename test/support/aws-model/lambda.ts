import type { InvokeCommandInput, InvokeCommandOutput } from '@aws-sdk/client-lambda';
import { type Handler, type Out, ServiceModel } from './service-model';

/** A function body: receives the parsed payload. */
export type LambdaFunction = (event: unknown) => unknown;

interface InvocationRecord {
  functionName: string;
  payload: unknown;
  invocationType: string;
  at: number;
}

interface LambdaState {
  invocations: InvocationRecord[];
}

/**
 * Lambda Invoke against functions a test registers (for example the real handlers). The
 * function runs before the call is answered; a thrown error becomes `FunctionError:
 * 'Unhandled'` with the error in the payload, as Lambda reports it.
 */
/**
 * Invoke API reference: "For synchronous invocations, the maximum payload size is 6 MB";
 * Lambda quotas: invocation payload 6 MB each for request and response (synchronous). A
 * request over it is RequestTooLargeException ("The request payload exceeded the Invoke
 * request body JSON input quota").
 */
export const SYNC_PAYLOAD_BYTES = 6 * 1024 * 1024;

export class LambdaModel extends ServiceModel<LambdaState> {
  readonly service = 'Lambda' as const;
  private functions = new Map<string, LambdaFunction>();

  protected initialState(): LambdaState {
    return { invocations: [] };
  }

  override resetState(): void {
    super.resetState();
    this.functions.clear();
  }

  handlers(): Record<string, Handler> {
    return {
      Invoke: (i: InvokeCommandInput & { result?: Out<InvokeCommandOutput> }) => this.invoke(i),
    };
  }

  /** Registers a function under its name. */
  register(name: string, fn: LambdaFunction): string {
    this.functions.set(name, fn);
    return this.arn('lambda', `function:${name}`);
  }

  invocations(): InvocationRecord[] {
    return this.state.invocations.map((i) => structuredClone(i));
  }

  private nameOf(ref: string | undefined): string {
    const m = /^(?:arn:aws[a-z-]*:lambda:[a-z0-9-]+:\d{12}:function:)?([^:]+)(?::.*)?$/.exec(ref ?? '');
    return m?.[1] ?? '';
  }

  override async prepareInput(command: string, input: unknown): Promise<unknown> {
    if (command !== 'Invoke') return input;
    const i = input as InvokeCommandInput;
    const name = this.nameOf(i.FunctionName);
    const fn = this.functions.get(name);
    if (!fn) return input;
    const payload = i.Payload as Uint8Array | string | undefined;
    const text =
      payload === undefined ? '{}' : typeof payload === 'string' ? payload : Buffer.from(payload).toString('utf8');
    let event: unknown;
    try {
      event = JSON.parse(text);
    } catch {
      return { ...i, result: 'InvalidRequestContentException' };
    }
    if (i.InvocationType === 'DryRun') return { ...i, result: { StatusCode: 204 } };
    if (i.InvocationType === 'Event') {
      void Promise.resolve()
        .then(() => fn(event))
        .catch(() => undefined);
      return { ...i, result: { StatusCode: 202 } };
    }
    if (Buffer.byteLength(text) > SYNC_PAYLOAD_BYTES) return { ...i, result: 'RequestTooLargeException' };
    try {
      const value = await fn(event);
      const body = Buffer.from(JSON.stringify(value ?? null));
      if (body.length > SYNC_PAYLOAD_BYTES) {
        // Past the quota the function's answer is replaced by an error (the errorType and
        // message are the ones Lambda sends; the quota is the documented part).
        return {
          ...i,
          result: {
            StatusCode: 200,
            ExecutedVersion: '$LATEST',
            FunctionError: 'Unhandled',
            Payload: new Uint8Array(
              Buffer.from(
                JSON.stringify({
                  errorType: 'Function.ResponseSizeTooLarge',
                  errorMessage: `Response payload size exceeded maximum allowed payload size (${SYNC_PAYLOAD_BYTES} bytes).`,
                }),
              ),
            ),
          },
        };
      }
      return {
        ...i,
        result: { StatusCode: 200, ExecutedVersion: '$LATEST', Payload: new Uint8Array(body) },
      };
    } catch (e) {
      const error = e as Error;
      const payload = {
        errorType: error.name ?? 'Error',
        errorMessage: error.message ?? String(e),
        trace: (error.stack ?? '').split('\n'),
      };
      return {
        ...i,
        result: {
          StatusCode: 200,
          ExecutedVersion: '$LATEST',
          FunctionError: 'Unhandled',
          Payload: new Uint8Array(Buffer.from(JSON.stringify(payload))),
        },
      };
    }
  }

  private invoke(input: InvokeCommandInput & { result?: Out<InvokeCommandOutput> | string }): Out<InvokeCommandOutput> {
    const name = this.nameOf(input.FunctionName);
    if (!this.functions.has(name)) {
      this.fail('ResourceNotFoundException', `Function not found: ${this.arn('lambda', `function:${name}`)}`, {
        status: 404,
      });
    }
    if (input.result === 'InvalidRequestContentException') {
      this.fail('InvalidRequestContentException', 'Could not parse request body into json', { status: 400 });
    }
    if (input.result === 'RequestTooLargeException') {
      this.fail(
        'RequestTooLargeException',
        'Request must be smaller than 6291456 bytes for the InvokeFunction operation',
        {
          status: 413,
        },
      );
    }
    this.state.invocations.push({
      functionName: name,
      payload:
        input.Payload === undefined ? undefined : JSON.parse(Buffer.from(input.Payload as Uint8Array).toString('utf8')),
      invocationType: input.InvocationType ?? 'RequestResponse',
      at: this.now,
    });
    return input.result as Out<InvokeCommandOutput>;
  }
}
