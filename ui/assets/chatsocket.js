/* One chat session's socket, shared by the help center and the customer portal.
   Reconnects and resumes after the last message seen; messages are deduplicated by id.
   The token is a string or a function giving the current one (staff tokens are refreshed). */

import { socketProtocols, wsUrl } from "./api.js";

const POLICY_VIOLATION = 1008;
const ACCESS_REVOKED = 4403;

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
    this.renewed = false;
  }

  currentToken() {
    return typeof this.token === "function" ? this.token() : this.token;
  }

  open() {
    const socket = new WebSocket(wsUrl(this.path, { after: this.lastId }), socketProtocols(this.currentToken()));
    this.socket = socket;
    socket.addEventListener("open", () => {
      this.retry = 0;
      this.renewed = false;
      this.handlers.onConnection?.("connected");
    });
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
      if (event.code === ACCESS_REVOKED) { this.handlers.onRefused?.(event.reason); return; }
      if (event.code === POLICY_VIOLATION) {
        // Maybe only the token ran out (a laptop asleep): renew it once, then believe the refusal.
        if (this.handlers.renew && !this.renewed) {
          this.renewed = true;
          this.handlers.renew().then((ok) => {
            if (this.closed) return;
            if (ok) this.open(); else this.handlers.onRefused?.(event.reason);
          });
          return;
        }
        this.handlers.onRefused?.(event.reason);
        return;
      }
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
