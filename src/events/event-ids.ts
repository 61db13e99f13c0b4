/**
 * Side channel for SSE `id:` values. Runners that number their events (for `Last-Event-ID`
 * resumption) attach the id under a symbol: invisible to `JSON.stringify`, `Object.keys` and
 * `structuredClone`, so what goes on the wire is exactly what the agent sent, and far cheaper
 * per event than a WeakMap (whose ephemeron table the GC walks). Frozen events fall back to one.
 */
const EVENT_ID = Symbol("copilot-runtime.eventId");
const frozenIds = new WeakMap<object, string>();

type Numbered = { [EVENT_ID]?: string | number };

export function setEventId(event: object, id: string | number): void {
  // A number stays a small integer inside the object: nothing more is allocated per event.
  if (Object.isExtensible(event)) (event as Numbered)[EVENT_ID] = id;
  else frozenIds.set(event, String(id));
}

export function getEventId(event: object): string | undefined {
  const id = (event as Numbered)[EVENT_ID];
  return id === undefined ? frozenIds.get(event) : String(id);
}

/** A `Last-Event-ID` a runner issued (a positive integer); anything else means "from the start" (0). */
export function parseEventId(id: string | undefined): number {
  if (id === undefined || !/^\d{1,15}$/.test(id.trim())) return 0;
  return Number(id.trim());
}
