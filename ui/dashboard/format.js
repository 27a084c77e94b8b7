/* How the dashboard writes its figures: durations, shares, ratings; "—" for no value. */

export const NONE = "—";

export function duration(seconds) {
  if (seconds === null || seconds === undefined) return NONE;
  const total = Math.max(0, Math.round(seconds));
  if (total < 60) return `${total} s`;
  const minutes = Math.floor(total / 60);
  if (minutes < 60) return `${minutes} min ${String(total % 60).padStart(2, "0")} s`;
  return `${Math.floor(minutes / 60)} h ${String(minutes % 60).padStart(2, "0")} min`;
}

export function share(fraction) {
  return fraction === null || fraction === undefined ? NONE : `${Math.round(fraction * 100)} %`;
}

export function rating(figures) {
  if (!figures.ratings) return NONE;
  return `${figures.average_rating.toFixed(1)} / 5 (${figures.ratings} ${figures.ratings === 1 ? "rating" : "ratings"})`;
}

export function dayLabel(iso) {
  const date = new Date(`${iso}T12:00:00Z`);
  return date.toLocaleDateString([], { weekday: "short", day: "numeric", month: "short", timeZone: "UTC" });
}
