/**
 * Monitoring core: column profiles computed while scoring, drift and quality against a
 * reference, ground-truth evaluation, Prometheus metrics and the HTML run report.
 */
export * from './grid.js';
export * from './numeric-profile.js';
export * from './numeric-bins.js';
export * from './category-profile.js';
export * from './profile-set.js';
export * from './profile-json.js';
export * from './arrow-input.js';
export * from './thresholds.js';
export * from './divergence.js';
export * from './drift.js';
export * from './evaluate.js';
export * from './metrics.js';
export * from './run-report.js';
export * from './report-html.js';
