/**
 * A loopback HTTP server that speaks OpenAI's `POST /v1/audio/transcriptions`: it parses the multipart body
 * itself (independently of the platform's FormData), checks the bearer key, the model and the file's
 * extension like OpenAI does, and can be switched into each failure mode the service must classify.
 */
import { createHash } from "node:crypto";
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo, Socket } from "node:net";

export interface ReceivedPart {
  name: string;
  filename?: string;
  contentType?: string;
  data: Buffer;
}

export interface ReceivedRequest {
  path: string;
  authorization?: string;
  contentType?: string;
  parts: Map<string, ReceivedPart>;
}

export type FakeBehaviour =
  | "ok"
  | "rate-limited"
  | "unauthorized"
  | "forbidden"
  | "too-long"
  | "bad-format"
  | "server-error"
  | "unavailable"
  | "drop-connection"
  | "slow"
  | "garbage";

export interface FakeOpenAI {
  /** `http://127.0.0.1:<port>/v1`, to pass as `baseURL`. */
  baseURL: string;
  /** Requests whose body was read, in order. */
  requests: ReceivedRequest[];
  behaviour: FakeBehaviour;
  /** How long "slow" waits before answering. */
  slowMs: number;
  close(): Promise<void>;
}

/** The file extensions OpenAI accepts; it decides the decoder from the file name. */
const OPENAI_EXTENSIONS = new Set(["flac", "m4a", "mp3", "mp4", "mpeg", "mpga", "oga", "ogg", "wav", "webm"]);

/** The transcript the fake returns for a file: deterministic, and depends on every byte. */
export function expectedTranscript(filename: string, data: Uint8Array): string {
  const digest = createHash("sha256").update(data).digest("hex").slice(0, 16);
  return `${filename} ${data.byteLength} bytes ${digest}`;
}

export async function startFakeOpenAI(options: { apiKey: string; models?: string[] }): Promise<FakeOpenAI> {
  const models = new Set(options.models ?? ["whisper-1"]);
  const sockets = new Set<Socket>();
  const state: FakeOpenAI = {
    baseURL: "",
    requests: [],
    behaviour: "ok",
    slowMs: 5_000,
    close: async () => {
      for (const socket of sockets) socket.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };

  const server = createServer((req, res) => {
    handle(req, res).catch((error: unknown) => {
      if (!res.headersSent) sendJson(res, 500, { error: { message: String(error), type: "server_error" } });
    });
  });
  server.on("connection", (socket) => {
    sockets.add(socket);
    socket.on("close", () => sockets.delete(socket));
  });

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    if (req.method !== "POST" || req.url !== "/v1/audio/transcriptions") {
      sendJson(res, 404, { error: { message: `Unknown request URL: ${req.method} ${req.url}` } });
      return;
    }
    const body = await readAll(req);
    const contentType = req.headers["content-type"];
    const boundary = /boundary=(?:"([^"]+)"|([^;\s]+))/i.exec(contentType ?? "");
    let parts: ReceivedPart[];
    try {
      if (!contentType?.startsWith("multipart/form-data") || !boundary) throw new Error("not multipart");
      parts = parseMultipart(body, boundary[1] ?? boundary[2]!);
    } catch (error) {
      sendJson(res, 400, { error: { message: `Could not parse multipart form: ${String(error)}` } });
      return;
    }
    const received: ReceivedRequest = {
      path: req.url,
      ...(req.headers.authorization ? { authorization: req.headers.authorization } : {}),
      ...(contentType ? { contentType } : {}),
      parts: new Map(parts.map((part) => [part.name, part])),
    };
    state.requests.push(received);

    if (received.authorization !== `Bearer ${options.apiKey}`) {
      const given = received.authorization?.replace(/^Bearer /, "") ?? "";
      sendJson(res, 401, {
        error: {
          message: `Incorrect API key provided: ${given}. You can find your API key at https://platform.openai.com/account/api-keys.`,
          type: "invalid_request_error",
          code: "invalid_api_key",
        },
      });
      return;
    }
    const model = received.parts.get("model")?.data.toString("utf8");
    if (!model || !models.has(model)) {
      sendJson(res, 404, { error: { message: `The model '${model}' does not exist`, code: "model_not_found" } });
      return;
    }
    const file = received.parts.get("file");
    if (!file?.filename) {
      sendJson(res, 400, { error: { message: "you must provide a file", type: "invalid_request_error" } });
      return;
    }
    const extension = file.filename.split(".").pop()?.toLowerCase() ?? "";
    if (!OPENAI_EXTENSIONS.has(extension) || state.behaviour === "bad-format") {
      sendJson(res, 400, {
        error: {
          message: `Invalid file format. Supported formats: ${[...OPENAI_EXTENSIONS].join(", ")}`,
          type: "invalid_request_error",
        },
      });
      return;
    }

    switch (state.behaviour) {
      case "rate-limited":
        res.setHeader("retry-after", "7");
        sendJson(res, 429, { error: { message: "Rate limit reached for whisper-1 on requests per min", type: "requests" } });
        return;
      case "unauthorized":
        sendJson(res, 401, { error: { message: `Incorrect API key provided: ${options.apiKey}.`, code: "invalid_api_key" } });
        return;
      case "forbidden":
        sendJson(res, 403, { error: { message: "Project does not have access to model whisper-1" } });
        return;
      case "too-long":
        sendJson(res, 400, {
          error: { message: "Audio file is too long. Maximum duration is 1500 seconds.", type: "invalid_request_error" },
        });
        return;
      case "server-error":
        sendJson(res, 500, { error: { message: "The server had an error while processing your request.", type: "server_error" } });
        return;
      case "unavailable":
        res.writeHead(503, { "content-type": "text/html" }).end("<html>Service Unavailable</html>");
        return;
      case "drop-connection":
        req.socket.destroy();
        return;
      case "slow":
        await new Promise((resolve) => setTimeout(resolve, state.slowMs));
        if (!res.destroyed) sendJson(res, 200, { text: "too late" });
        return;
      case "garbage":
        res.writeHead(200, { "content-type": "application/json" }).end("{not json");
        return;
      default:
        sendJson(res, 200, { text: expectedTranscript(file.filename, file.data) });
    }
  }

  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  state.baseURL = `http://127.0.0.1:${port}/v1`;
  return state;
}

/** A port on 127.0.0.1 that nothing listens on (bound, then released). */
export async function closedLoopbackPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

function sendJson(res: ServerResponse, status: number, body: unknown): void {
  res.writeHead(status, { "content-type": "application/json" }).end(JSON.stringify(body));
}

async function readAll(req: IncomingMessage): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

/** RFC 7578 multipart/form-data, parsed byte-exactly (no decoding of the file part). */
function parseMultipart(body: Buffer, boundary: string): ReceivedPart[] {
  const delimiter = Buffer.from(`--${boundary}`);
  const nextDelimiter = Buffer.from(`\r\n--${boundary}`);
  const parts: ReceivedPart[] = [];
  let position = body.indexOf(delimiter);
  if (position < 0) throw new Error("no opening boundary");
  position += delimiter.length;
  for (;;) {
    const after = body.subarray(position, position + 2).toString("latin1");
    if (after === "--") return parts;
    if (after !== "\r\n") throw new Error("malformed boundary line");
    const headerEnd = body.indexOf("\r\n\r\n", position + 2);
    if (headerEnd < 0) throw new Error("unterminated part headers");
    const headers = new Map<string, string>();
    for (const line of body.subarray(position + 2, headerEnd).toString("utf8").split("\r\n")) {
      const colon = line.indexOf(":");
      headers.set(line.slice(0, colon).trim().toLowerCase(), line.slice(colon + 1).trim());
    }
    const end = body.indexOf(nextDelimiter, headerEnd + 4);
    if (end < 0) throw new Error("unterminated part");
    const disposition = headers.get("content-disposition") ?? "";
    const name = /\bname="([^"]*)"/.exec(disposition)?.[1];
    if (name === undefined) throw new Error("part without a name");
    const filename = /\bfilename="([^"]*)"/.exec(disposition)?.[1];
    const contentType = headers.get("content-type");
    parts.push({
      name,
      ...(filename !== undefined ? { filename } : {}),
      ...(contentType !== undefined ? { contentType } : {}),
      data: Buffer.from(body.subarray(headerEnd + 4, end)),
    });
    position = end + nextDelimiter.length;
  }
}
