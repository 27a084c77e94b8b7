/* One chat session's socket, shared by the help center and the customer portal.
   Reconnects and resumes after the last message seen; messages are deduplicated by id. */

import { wsUrl } from "./api.js";

export function clientId() {
  if (window.crypto && crypto.randomUUID) return crypto.randomUUID();
  return `c-${Date.now().toString(36)}-${Math.random().toString(36).slice(2, 10)}`;
}

export class ChatSocket {
  constructor(path, token, handlers) {
    this.path = path;
    this.token = token;
    this.handlers = handlers;
    this.lastId = null;
    this.seen = new Set();
    this.retry = 0;
    this.closed = false;
    this.ended = false;
    this.socket = null;
  }

  open() {
    const socket = new WebSocket(wsUrl(this.path, { token: this.token, after: this.lastId }));
    this.socket = socket;
    socket.addEventListener("open", () => { this.retry = 0; this.handlers.onConnection?.("connected"); });
    socket.addEventListener("message", (event) => {
      let frame;
      try { frame = JSON.parse(event.data); } catch { return; }
      if (frame.type === "message") {
        if (this.seen.has(frame.id)) return;
        this.seen.add(frame.id);
        this.lastId = frame.id;
        this.handlers.onMessage(frame);
      } else if (frame.type === "session") {
        if (frame.state === "completed") this.ended = true;
        this.handlers.onSession(frame);
      } else if (frame.type === "typing") {
        this.handlers.onTyping?.(frame);
      } else if (frame.type === "error") {
        this.handlers.onError?.(frame);
      }
    });
    socket.addEventListener("close", (event) => {
      if (socket !== this.socket || this.closed) return;
      if (this.ended) { this.handlers.onClosed?.(event); return; }
      if (event.code === 1008) { this.handlers.onRefused?.(event.reason); return; }
      this.handlers.onConnection?.("reconnecting");
      const delay = Math.min(8000, 500 * 2 ** this.retry++);
      setTimeout(() => { if (!this.closed) this.open(); }, delay);
    });
  }

  send(frame) {
    if (!this.socket || this.socket.readyState !== WebSocket.OPEN) return false;
    this.socket.send(JSON.stringify(frame));
    return true;
  }

  sendMessage(text) {
    return this.send({ type: "message", text, client_id: clientId() });
  }

  close() {
    this.closed = true;
    if (this.socket) this.socket.close(1000, "closed");
  }
}
