import { AbstractAgent, type BaseEvent, type RunAgentInput } from "@ag-ui/client";
import { Observable } from "rxjs";
import { planToolCall, toolResultReply, type PlannedToolCall } from "./demo-tools.js";

export interface DemoAgentOptions {
  /** Delay between streamed words, in milliseconds. Default 30. */
  wordDelayMs?: number;
  description?: string;
}

const LONG_REPLY_WORDS = 400;

/**
 * The agent `copilot-runtime serve` registers when no model key is configured: it streams a
 * reply word by word, so the whole stack (UI, streaming, stop, reload) can be tried without an
 * API key. Ask it for something "long" to get a reply long enough to stop. When the client
 * offers frontend tools and the message asks for one ("change the background to teal", "use
 * the tool", or the tool's name), it calls that tool and ends the run; the next run, carrying
 * the tool's result, gets a reply acknowledging it.
 *
 * @example
 * ```ts
 * const runtime = new CopilotRuntime({ agents: { default: new DemoAgent({ wordDelayMs: 10 }) } });
 * ```
 */
export class DemoAgent extends AbstractAgent {
  // `/info` reports the class name; bundlers may rename a class that refers to itself.
  static {
    Object.defineProperty(this, "name", { value: "DemoAgent" });
  }

  private readonly options: DemoAgentOptions;
  private timer: ReturnType<typeof setTimeout> | undefined;

  constructor(options: DemoAgentOptions = {}) {
    super({
      description:
        options.description ?? "A demo agent that streams a reply word by word. It needs no API key; configure a model to talk to a real LLM.",
    });
    this.options = options;
  }

  override clone(): DemoAgent {
    const copy = new DemoAgent(this.options);
    copy.agentId = this.agentId;
    copy.threadId = this.threadId;
    copy.setMessages(structuredClone(this.messages));
    copy.setState(structuredClone(this.state));
    return copy;
  }

  override abortRun(): void {
    clearTimeout(this.timer);
    super.abortRun();
  }

  run(input: RunAgentInput): Observable<BaseEvent> {
    const delay = this.options.wordDelayMs ?? 30;
    return new Observable<BaseEvent>((subscriber) => {
      const messageId = `msg-${input.runId}`;
      const reply = replyFor(input);
      const words = reply.text.split(" ");
      let index = 0;
      const emit = (event: Record<string, unknown>) => subscriber.next(event as unknown as BaseEvent);
      emit({ type: "RUN_STARTED", threadId: input.threadId, runId: input.runId });
      emit({ type: "TEXT_MESSAGE_START", messageId, role: "assistant" });
      const next = () => {
        if (index < words.length) {
          emit({ type: "TEXT_MESSAGE_CONTENT", messageId, delta: (index === 0 ? "" : " ") + words[index] });
          index += 1;
          this.timer = setTimeout(next, delay);
          return;
        }
        emit({ type: "TEXT_MESSAGE_END", messageId });
        if (reply.toolCall !== undefined) {
          // The client runs the tool, then starts a new run carrying the result.
          const toolCallId = `call-${input.runId}`;
          emit({ type: "TOOL_CALL_START", toolCallId, toolCallName: reply.toolCall.tool.name, parentMessageId: messageId });
          emit({ type: "TOOL_CALL_ARGS", toolCallId, delta: JSON.stringify(reply.toolCall.args) });
          emit({ type: "TOOL_CALL_END", toolCallId });
        }
        emit({ type: "RUN_FINISHED", threadId: input.threadId, runId: input.runId });
        subscriber.complete();
      };
      this.timer = setTimeout(next, delay);
      return () => clearTimeout(this.timer);
    });
  }
}

function lastUserText(input: RunAgentInput): string {
  for (let i = input.messages.length - 1; i >= 0; i--) {
    const message = input.messages[i];
    if (message.role !== "user") continue;
    if (typeof message.content === "string") return message.content;
    if (Array.isArray(message.content)) {
      return message.content
        .map((part) => (part && typeof part === "object" && "text" in part ? String(part.text) : ""))
        .join(" ")
        .trim();
    }
  }
  return "";
}

interface DemoReply {
  text: string;
  toolCall?: PlannedToolCall;
}

function replyFor(input: RunAgentInput): DemoReply {
  const toolResult = lastToolResult(input);
  if (toolResult !== undefined) return { text: toolResultReply(toolResult.name, toolResult.args, toolResult.content) };
  const text = lastUserText(input).replace(/\s+/g, " ").trim();
  const toolCall = planToolCall(text, input.tools ?? []);
  if (toolCall !== undefined) return { text: `Calling ${toolCall.tool.name}.`, toolCall };
  if (/\blong\b/i.test(text)) {
    return { text: Array.from({ length: LONG_REPLY_WORDS }, (_, i) => `word${i + 1}`).join(" ") };
  }
  const quoted = text.length > 200 ? `${text.slice(0, 200)}…` : text;
  return {
    text:
      text === ""
        ? "Hello! I am the copilot-runtime demo agent. I stream every reply word by word, without an API key."
        : `You said: "${quoted}". I am the copilot-runtime demo agent: I stream every reply word by word, without an API key. Configure a model provider key to talk to a real LLM.`,
  };
}

/** The tool result the run was started with: the last message, when it is a tool message. */
function lastToolResult(input: RunAgentInput): { name: string; args: string; content: string } | undefined {
  const last = input.messages[input.messages.length - 1];
  if (last?.role !== "tool") return undefined;
  const call = input.messages
    .flatMap((message) => (message.role === "assistant" ? (message.toolCalls ?? []) : []))
    .find((toolCall) => toolCall.id === last.toolCallId);
  const content = typeof last.content === "string" ? last.content : JSON.stringify(last.content);
  return { name: call?.function.name ?? "the tool", args: call?.function.arguments ?? "{}", content };
}
