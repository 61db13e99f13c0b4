import { AbstractAgent, type BaseEvent, type RunAgentInput } from "@ag-ui/client";
import { Observable } from "rxjs";

export interface DemoAgentOptions {
  /** Delay between streamed words, in milliseconds. Default 30. */
  wordDelayMs?: number;
  description?: string;
}

const LONG_REPLY_WORDS = 400;

/**
 * The agent `copilot-runtime serve` registers when no model key is configured: it streams a
 * reply word by word, so the whole stack (UI, streaming, stop, reload) can be tried without an
 * API key. Ask it for something "long" to get a reply long enough to stop.
 */
export class DemoAgent extends AbstractAgent {
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
      const words = replyFor(input).split(" ");
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

function replyFor(input: RunAgentInput): string {
  const text = lastUserText(input).replace(/\s+/g, " ").trim();
  if (/\blong\b/i.test(text)) {
    return Array.from({ length: LONG_REPLY_WORDS }, (_, i) => `word${i + 1}`).join(" ");
  }
  const quoted = text.length > 200 ? `${text.slice(0, 200)}…` : text;
  return text === ""
    ? "Hello! I am the copilot-runtime demo agent. I stream every reply word by word, without an API key."
    : `You said: "${quoted}". I am the copilot-runtime demo agent: I stream every reply word by word, without an API key. Configure a model provider key to talk to a real LLM.`;
}
