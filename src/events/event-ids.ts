/**
 * Side channel for SSE `id:` values. Runners that number their events (for `Last-Event-ID`
 * resumption) register the id here, keeping the event objects themselves exactly what the
 * agent sent.
 */
const ids = new WeakMap<object, string>();

export function setEventId(event: object, id: string | number): void {
  ids.set(event, String(id));
}

export function getEventId(event: object): string | undefined {
  return ids.get(event);
}

/** A `Last-Event-ID` a runner issued (a positive integer); anything else means "from the start" (0). */
export function parseEventId(id: string | undefined): number {
  if (id === undefined || !/^\d{1,15}$/.test(id.trim())) return 0;
  return Number(id.trim());
}
