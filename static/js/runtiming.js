// The time maths of a watched run, for the session store: each stage's ETA from its measured
// progress rate over a recent window, and the overall progress and ETA weighted by each
// stage's expected duration (GET /pipeline/estimates/<id>, learned on this machine). Pure:
// every function is given the time and returns numbers.

// Progress samples older than this are dropped (two are always kept).
export const RATE_WINDOW_MS = 30000;
// A rate is only measured over at least this span.
export const MIN_SPAN_MS = 3000;
// How far this run's pace may scale the expected time of the stages still to come.
export const PACE_LIMITS = [0.5, 4];
const DONE = new Set(["completed", "skipped"]);

/** Add a `(at ms, progress %)` sample; keep the last window, and never fewer than two. */
export function addSample(samples, at, progress) {
  const last = samples[samples.length - 1];
  if (last && (progress <= last.progress || at <= last.at)) return samples;
  samples.push({ at, progress });
  while (samples.length > 2 && samples[1].at < at - RATE_WINDOW_MS) samples.shift();
  return samples;
}

/**
 * Seconds left of a running stage from its progress samples, measured up to `now`: while no
 * progress comes, the rate falls and the estimate grows, so it is never stuck. Null when the
 * samples span too little or show no progress.
 */
export function measuredEta(samples, now) {
  if (samples.length < 2) return null;
  const first = samples[0];
  const last = samples[samples.length - 1];
  const span = now - first.at;
  const gained = last.progress - first.progress;
  if (span < MIN_SPAN_MS || gained <= 0 || last.progress >= 100) return null;
  return ((100 - last.progress) * span) / gained / 1000;
}

/**
 * A running stage's seconds left: 0 at 100 %, measured over the window, else from its average
 * rate since it started (`elapsed` s for `progress` %), else what its `expected` seconds
 * leave, else null.
 */
export function stageEta(samples, now, expected, elapsed, progress) {
  if (progress >= 100) return 0; // all reported done: it is finishing up
  const measured = measuredEta(samples, now);
  if (measured !== null) return measured;
  if (progress >= 2 && progress < 100 && elapsed >= MIN_SPAN_MS / 1000) return (elapsed * (100 - progress)) / progress;
  if (Number.isFinite(expected) && Number.isFinite(elapsed) && expected > elapsed) return expected - elapsed;
  return null;
}

/** The weight of each stage: its expected seconds, else its cost per source second, else 1. */
export function stageWeights(numbers, estimates) {
  const rows = estimates?.stages || {};
  const weight = (n) => {
    const row = rows[String(n)] || {};
    const value = estimates?.source_seconds ? row.expected_seconds : row.per_source_second;
    return Number.isFinite(value) && value > 0 ? value : null;
  };
  const known = numbers.map(weight);
  const fallback = known.some((w) => w !== null) ? Math.min(...known.filter((w) => w !== null)) : 1;
  return Object.fromEntries(numbers.map((n, i) => [n, known[i] ?? fallback]));
}

/** How much of a stage is done, 0..1. */
export function stageFraction(stage) {
  if (DONE.has(stage.status)) return 1;
  return Math.max(0, Math.min(100, Number(stage.progress) || 0)) / 100;
}

/** Overall progress, 0..100, of `stages` (`{number, status, progress}`) weighted by `weights`. */
export function weightedProgress(stages, weights) {
  let total = 0;
  let done = 0;
  for (const stage of stages) {
    const w = weights[stage.number] ?? 0;
    total += w;
    done += w * stageFraction(stage);
  }
  return total > 0 ? (100 * done) / total : 0;
}

/**
 * This run's pace against the expectations: actual over expected seconds of its finished
 * stages (1 when none is known), within PACE_LIMITS.
 */
export function pace(stages, expectedSeconds) {
  let actual = 0;
  let expected = 0;
  for (const stage of stages) {
    const e = expectedSeconds[stage.number];
    if (stage.status === "completed" && Number.isFinite(stage.took) && Number.isFinite(e) && e > 0) {
      actual += stage.took;
      expected += e;
    }
  }
  if (!expected) return 1;
  return Math.min(PACE_LIMITS[1], Math.max(PACE_LIMITS[0], actual / expected));
}

/**
 * The run's seconds left: the running stages' ETAs plus the expected seconds of those still to
 * come (scaled by this run's pace); null while any part is unknown.
 * `stages`: `{number, status, eta, took}`; `expectedSeconds`: `{number: seconds | null}`.
 */
export function overallEta(stages, expectedSeconds) {
  const factor = pace(stages, expectedSeconds);
  let left = 0;
  for (const stage of stages) {
    if (DONE.has(stage.status)) continue;
    if (stage.status === "running") {
      if (!Number.isFinite(stage.eta)) return null;
      left += stage.eta;
    } else if (stage.status === "pending") {
      const e = expectedSeconds[stage.number];
      if (!Number.isFinite(e)) return null;
      left += e * factor;
    } else {
      return null; // failed or interrupted: nothing more will run
    }
  }
  return left;
}

/** Each stage's expected seconds from an estimates answer (null where unknown). */
export function expectedSeconds(numbers, estimates) {
  const rows = estimates?.stages || {};
  return Object.fromEntries(numbers.map((n) => {
    const value = rows[String(n)]?.expected_seconds;
    return [n, Number.isFinite(value) ? value : null];
  }));
}
