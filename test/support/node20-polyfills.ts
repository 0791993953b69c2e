// aws-local-stepfunctions 3 (the only published major) uses Promise.withResolvers, which
// Node gained in 22; Lambda runs 22, this machine runs 20. The polyfill is the spec's own
// definition, for tests only.
if (!('withResolvers' in Promise)) {
  Object.defineProperty(Promise, 'withResolvers', {
    value<T>(this: PromiseConstructor) {
      let resolve!: (value: T | PromiseLike<T>) => void;
      let reject!: (reason?: unknown) => void;
      const promise = new this<T>((res, rej) => {
        resolve = res;
        reject = rej;
      });
      return { promise, resolve, reject };
    },
    configurable: true,
    writable: true,
  });
}
