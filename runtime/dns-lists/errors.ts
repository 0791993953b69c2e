/** Every error the DNS Firewall managed-list lookup raises. Callers and tests can catch the function's errors by this one class. */
export class DnsListsError extends Error {
  override readonly name: string = 'DnsListsError';
}

export class ManagedListNotFoundError extends DnsListsError {
  override readonly name = 'ManagedListNotFoundError';
}
