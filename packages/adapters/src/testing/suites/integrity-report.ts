import type { VerifyReport } from '@eventlog/core';

/** The findings of a verify report, for comparing with {@link NOTHING} or an expected finding. */
export const clean = (report: VerifyReport) => ({
  modified: report.modified,
  deleted: report.deleted,
  inserted: report.inserted,
  reordered: report.reordered,
  checkpointFailures: report.checkpointFailures,
  missingNewest: report.missingNewest,
});

/** What {@link clean} gives for a chain that verifies. */
export const NOTHING = { modified: [], deleted: [], inserted: [], reordered: [], checkpointFailures: [], missingNewest: null };
