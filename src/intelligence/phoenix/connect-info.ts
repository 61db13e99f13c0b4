/**
 * What a connect request says about itself, read the same way for both transports: the query
 * parameters the platform sees (without Phoenix's own `vsn` and long-poll `token`) and whether
 * the client speaks the serializer we implement.
 */

/** Query parameters of a connect request, without `vsn` and `token`; the last value of a repeated key wins. */
export function connectParams(url: URL): Record<string, string> {
  const params: Record<string, string> = {};
  for (const [key, value] of url.searchParams) {
    if (key === "vsn" || key === "token" || key === "") continue;
    params[key] = value;
  }
  return params;
}

/**
 * True when the client asked for serializer 2.x (phoenix.js sends `vsn=2.0.0`). A missing `vsn`
 * is let through as 2.x too, as only v2 frames will be understood anyway; an explicit 1.x
 * client would send object frames we cannot read, so it is refused up front.
 */
export function isSupportedVsn(url: URL): boolean {
  const vsn = url.searchParams.get("vsn");
  return vsn === null || vsn === "" || /^2(\.|$)/.test(vsn);
}

/** Copies Node's raw header pairs into web `Headers` (HTTP/2 pseudo-headers are skipped). */
export function headersFromRaw(rawHeaders: string[]): Headers {
  const headers = new Headers();
  for (let i = 0; i + 1 < rawHeaders.length; i += 2) {
    const name = rawHeaders[i];
    if (name.startsWith(":")) continue;
    try {
      headers.append(name, rawHeaders[i + 1]);
    } catch {
      // A header the Fetch rules reject (odd bytes) is not one the platform can use.
    }
  }
  return headers;
}
