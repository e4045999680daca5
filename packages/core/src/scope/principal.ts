import { ValidationError } from '../errors.js';
import { normalizeTenantId } from '../schema/tenant.js';
import type { Condition } from '../storage/contract.js';

/**
 * Who is reading. Admins see every tenant; resellers see their own tenant list; users see one
 * tenant (their own, by default their id).
 */
export type Principal =
  | { readonly role: 'admin'; readonly id?: string }
  | { readonly role: 'reseller'; readonly id: string; readonly tenantIds: readonly string[] }
  | { readonly role: 'user'; readonly id: string; readonly tenantId?: string };

/** The tenants a principal may read, or `null` for all. @internal */
export function allowedTenants(principal: Principal): readonly string[] | null {
  switch (principal?.role) {
    case 'admin':
      return null;
    case 'reseller':
      return principal.tenantIds.map((t) => normalizeTenantId(String(t)));
    case 'user':
      return [normalizeTenantId(String(principal.tenantId ?? principal.id))];
    default:
      throw new ValidationError([{ path: ['principal', 'role'], message: 'must be admin, reseller or user' }]);
  }
}

/**
 * Narrows conditions to the principal's tenants. A tenant filter can only narrow further: tenants
 * outside the scope are dropped, and if none remain the selection is empty. @internal
 */
export function applyScope(conditions: readonly Condition[], tenants: readonly string[] | null, column = 'tenant_id'): Condition[] {
  if (tenants === null) return [...conditions];
  return [...conditions, { op: 'in', column, values: [...tenants] }];
}
