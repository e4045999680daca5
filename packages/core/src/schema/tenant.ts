/**
 * A tenant id as every engine stores and compares it: U+0000 replaced by U+FFFD. PostgreSQL text
 * cannot hold U+0000 and its store replaces it, so there `a\u0000b` and `a\ufffdb` were one tenant
 * while SQLite and MySQL kept two; a tenant is an identity (scoping, hash chains and their locks),
 * so the core settles it once for every engine, in events, filters, principals and the integrity API:
 * `a\u0000b` becomes `a\ufffdb`.
 * @internal
 */
export function normalizeTenantId(tenantId: string): string {
  return tenantId.includes('\0') ? tenantId.replace(/\0/g, '\ufffd') : tenantId;
}

/** {@link normalizeTenantId} for a tenant that may be absent (`null`: events without a tenant). @internal */
export function normalizeTenant<T extends string | null | undefined>(tenantId: T): T {
  return (typeof tenantId === 'string' ? normalizeTenantId(tenantId) : tenantId) as T;
}
