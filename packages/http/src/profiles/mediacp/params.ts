import { z } from 'zod';
import { queryInt, queryList, queryString } from '../../params.js';
import { zonedToEpoch } from '../zoned-time.js';
import { MEDIACP_CATEGORIES, type MediaCpCategory, WIRE_TYPES } from './preset.js';

const SERVICE_ID = /^[A-Za-z0-9_-]{1,64}$/;
/** A service id in a path or query. @internal */
export const serviceIdSchema = z
  .string({ error: 'must be given once' })
  .regex(SERVICE_ID, 'must be a service id (letters, digits, "-" or "_", at most 64)');

const categoryParam = z.preprocess((value) => {
  if (typeof value !== 'string') return value;
  const word = value.toLowerCase().replace(/[^a-z]/g, '');
  if (word === '' || word === 'all' || word === 'allevents') return undefined;
  return word === 'autodjs' ? 'autodj' : word;
}, z.enum(MEDIACP_CATEGORIES, { error: `must be one of all, ${MEDIACP_CATEGORIES.join(', ')}` }).optional());

const DATE_ONLY = /^(\d{4})-(\d{2})-(\d{2})$/;
const MAX_SECONDS = 253_402_300_799; // 9999-12-31T23:59:59Z

/** A date parameter: `YYYY-MM-DD` (a local day), an ISO 8601 time, or Unix seconds. */
function dateParam(timeZone: string, end: boolean) {
  return z.preprocess(
    (value) => (typeof value === 'string' && value.trim() === '' ? undefined : value),
    z
      .string({ error: 'must be given once' })
      .max(40, 'must be at most 40 characters')
      .transform((text, ctx) => {
        const value = text.trim();
        const day = DATE_ONLY.exec(value);
        if (day) {
          const [year, month, date] = [Number(day[1]), Number(day[2]), Number(day[3])];
          const check = new Date(Date.UTC(year, month - 1, date));
          if (year < 1970 || check.getUTCMonth() !== month - 1 || check.getUTCDate() !== date) {
            ctx.addIssue({ code: 'custom', message: 'is not a calendar date' });
            return z.NEVER;
          }
          // date_to names the last day included: the range ends at the next local midnight.
          return zonedToEpoch({ year, month, day: date + (end ? 1 : 0) }, timeZone);
        }
        if (/^\d{1,12}$/.test(value)) {
          const seconds = Number(value);
          if (seconds > MAX_SECONDS) {
            ctx.addIssue({ code: 'custom', message: 'is too far in the future' });
            return z.NEVER;
          }
          return seconds * 1000 + (end ? 1000 : 0);
        }
        const parsed = /^\d{4}-\d{2}-\d{2}T/.test(value) ? Date.parse(value) : Number.NaN;
        if (!Number.isFinite(parsed) || parsed < 0 || parsed > MAX_SECONDS * 1000) {
          ctx.addIssue({ code: 'custom', message: 'must be YYYY-MM-DD, an ISO 8601 time or Unix seconds' });
          return z.NEVER;
        }
        return parsed + (end ? 1 : 0);
      })
      .optional(),
  );
}

/** The parsed list query. @internal */
export interface ListQuery {
  category?: MediaCpCategory | undefined;
  event_type?: string[] | undefined;
  service_id?: string | undefined;
  date_from?: number | undefined;
  date_to?: number | undefined;
  search?: string | undefined;
  page?: number | undefined;
  per_page?: number | undefined;
  format?: 'json' | 'csv' | undefined;
}

/** The list query of every route, with dates read in `timeZone` and `per_page` capped at `maxPerPage`. @internal */
export function listQuerySchema(timeZone: string, defaultPerPage: number, maxPerPage: number) {
  return z
    .object({
      category: categoryParam,
      event_type: queryList({ max: 64, maxItems: WIRE_TYPES.length }).refine(
        (list) => list === undefined || list.every((t) => WIRE_TYPES.includes(t)),
        `must list event types among ${WIRE_TYPES.join(', ')}`,
      ),
      service_id: z.preprocess((v) => (v === '' ? undefined : v), serviceIdSchema.optional()),
      date_from: dateParam(timeZone, false),
      date_to: dateParam(timeZone, true),
      search: queryString({ max: 200 }),
      page: queryInt({ min: 1, max: 1_000_000, default: 1 }),
      per_page: queryInt({ min: 1, max: maxPerPage, default: defaultPerPage }),
      format: z.preprocess(
        (v) => (typeof v === 'string' ? v.toLowerCase() || undefined : v),
        z.enum(['json', 'csv'], { error: 'must be json or csv' }).optional(),
      ),
    })
    .refine((q) => q.date_from === undefined || q.date_to === undefined || q.date_from < q.date_to, {
      message: 'must not be after date_to',
      path: ['date_from'],
    });
}
