/* How the waiting screen words times: the estimated wait, and time spent waiting. */

export function describeWait(seconds) {
  if (seconds === null || seconds === undefined || seconds === "") return "";
  if (seconds < 60) return "Estimated wait: less than a minute.";
  const minutes = Math.round(seconds / 60);
  return minutes === 1 ? "Estimated wait: about 1 minute." : `Estimated wait: about ${minutes} minutes.`;
}

export function elapsed(ms) {
  const total = Math.max(0, Math.floor(ms / 1000));
  const minutes = Math.floor(total / 60);
  const seconds = total % 60;
  if (!minutes) return `${seconds} s`;
  return `${minutes} min ${String(seconds).padStart(2, "0")} s`;
}
