import { type LogCore, ROOT_SCOPE } from '../core.js';
import type { FilterInput } from '../filter/filter.js';
import type { RetentionOptions } from '../options.js';
import type { Condition } from '../storage/contract.js';
import type { PolicyMatch, PolicySubject, RetentionPolicy } from './job-types.js';

export const DAY = 86_400_000;
/** The name of the policy built from `retention.maxAgeDays` / `retention.default`. */
export const DEFAULT_POLICY = 'default';
const NAME = /^[A-Za-z0-9_.:-]{1,100}$/;

/**
 * The policies of a retention option, the default last: `retention.maxAgeDays` (or
 * `retention.default`) becomes the `default` policy, which deletes what no named delete policy
 * matches. Throws a `TypeError` for a bad policy, at construction. @internal
 */
export function retentionPolicies(retention: RetentionOptions | undefined): RetentionPolicy[] {
  if (!retention) return [];
  const policies = [...(retention.policies ?? [])];
  const names = new Set<string>();
  for (const policy of policies) {
    if (!policy || typeof policy.name !== 'string' || !NAME.test(policy.name)) {
      throw new TypeError('retention.policies[].name must be 1-100 letters, digits or "_.:-".');
    }
    if (names.has(policy.name) || policy.name === DEFAULT_POLICY) {
      throw new TypeError(`retention.policies: the name "${policy.name}" is used twice (or is the reserved "default").`);
    }
    names.add(policy.name);
    checkAge(policy.maxAgeDays, `retention.policies "${policy.name}".maxAgeDays`);
    if (policy.action !== undefined && policy.action !== 'delete' && policy.action !== 'expireData') {
      throw new TypeError(`retention.policies "${policy.name}".action must be "delete" or "expireData".`);
    }
    if (policy.archive && policy.action === 'expireData') {
      throw new TypeError(`retention.policies "${policy.name}": an expireData policy deletes nothing, so it has nothing to archive.`);
    }
    checkArchive(policy.archive, `retention.policies "${policy.name}".archive`);
  }
  const maxAgeDays = retention.default?.maxAgeDays ?? retention.maxAgeDays;
  if (maxAgeDays !== undefined) {
    checkAge(maxAgeDays, retention.default ? 'retention.default.maxAgeDays' : 'retention.maxAgeDays');
    checkArchive(retention.default?.archive, 'retention.default.archive');
    policies.push({ name: DEFAULT_POLICY, maxAgeDays, ...(retention.default?.archive ? { archive: retention.default.archive } : {}) });
  } else if (policies.length === 0) {
    throw new TypeError('retention needs maxAgeDays, a default or at least one policy.');
  }
  return policies;
}

function checkAge(days: unknown, what: string): void {
  if (!(typeof days === 'number' && days > 0)) throw new TypeError(`${what} must be a positive number.`);
}

function checkArchive(archive: RetentionPolicy['archive'], what: string): void {
  if (!archive) return;
  if (!archive.directory === !archive.stream) throw new TypeError(`${what} needs either a directory or a stream.`);
  if (archive.format !== undefined && archive.format !== 'jsonl' && archive.format !== 'csv') {
    throw new TypeError(`${what}.format must be "jsonl" or "csv".`);
  }
}

/** Equality on a column, NULL included (the `in` condition never matches NULL). */
function equals(column: string, value: string | null): Condition {
  return value === null ? { op: 'not', conditions: [{ op: 'notNull', column }] } : { op: 'in', column, values: [value] };
}

/**
 * The distinct (tenant, type, category) of events older than `before`, for predicate policies:
 * one grouped count per level, so a few queries per tenant and type.
 */
async function subjects(core: LogCore, before: number): Promise<PolicySubject[]> {
  const old: Condition = { op: 'range', column: 'time', lt: before };
  const groups = async (where: Condition[], column: string) =>
    (await core.guard('aggregate', () => core.store.aggregate({ where, groupBy: { column }, sum: [] }))).map((g) =>
      g.key === null || g.key === undefined ? null : String(g.key),
    );
  const out: PolicySubject[] = [];
  for (const tenantId of await groups([old], 'tenant_id')) {
    const byTenant = [old, equals('tenant_id', tenantId)];
    for (const type of await groups(byTenant, 'type')) {
      if (type === null) continue;
      for (const category of await groups([...byTenant, equals('type', type)], 'category')) out.push({ tenantId, type, category });
    }
  }
  return out;
}

/** A policy's match as OR-ed condition lists (an empty list: every event). */
async function matchSets(
  core: LogCore,
  policy: RetentionPolicy,
  before: number,
  cache: { subjects?: PolicySubject[] },
): Promise<Condition[][]> {
  const match = policy.match;
  if (match === undefined) return [[]];
  if (typeof match === 'function') {
    cache.subjects ??= await subjects(core, before);
    return cache.subjects
      .filter((s) => match(s))
      .map((s) => [equals('tenant_id', s.tenantId), equals('type', s.type), equals('category', s.category)]);
  }
  const filter: FilterInput = {};
  const m = match as PolicyMatch;
  if (m.tenantId !== undefined) filter.tenantId = m.tenantId as FilterInput['tenantId'];
  if (m.type !== undefined) filter.type = m.type as FilterInput['type'];
  if (m.category !== undefined) filter.category = m.category as FilterInput['category'];
  return [core.conditions(ROOT_SCOPE, filter, ['retention', 'policies', policy.name, 'match'])];
}

/**
 * The segments a policy run works through: each an AND of conditions (its match, `time < before`,
 * and for delete policies "not any earlier delete policy's match"), processed one after another.
 * @internal
 */
export async function policySegments(
  core: LogCore,
  policies: readonly RetentionPolicy[],
  policy: RetentionPolicy,
  before: number,
): Promise<Condition[][]> {
  const cache: { subjects?: PolicySubject[] } = {};
  const time: Condition = { op: 'range', column: 'time', lt: before };
  const own = await matchSets(core, policy, before, cache);
  if (policy.action === 'expireData') return own.map((set) => [...set, time]);
  const exclusions: Condition[] = [];
  for (const other of policies) {
    if (other === policy) break;
    if (other.action === 'expireData') continue;
    for (const set of await matchSets(core, other, before, cache)) {
      // A policy matching everything before this one leaves it nothing.
      if (set.length === 0) return [];
      exclusions.push({ op: 'not', conditions: set });
    }
  }
  return own.map((set) => [...set, ...exclusions, time]);
}
