/* The help center's presence socket: heartbeats keep the technician connected
   (routing ignores a silent help center), and the server pushes alerts and status. */

import { socketProtocols, wsUrl } from "../assets/api.js";

const HEARTBEAT_MS = 10000;
const POLICY_VIOLATION = 1008;
const ACCESS_REVOKED = 4403;

/* `token()` gives the current access token: each reconnect uses the latest refreshed one.
   `handlers.renew()` refreshes it (resolves true when it could). */
export class PresenceSocket {
  constructor(token, handlers) {
    this.token = token;
    this.renewed = false;
    this.handlers = handlers;
    this.socket = null;
    this.timer = null;
    this.retry = 0;
    this.stopped = false;
  }

  start() {
    this.stopped = false;
    this.open();
  }

  stop() {
    this.stopped = true;
    clearInterval(this.timer);
    if (this.socket) this.socket.close(1000, "signed out");
  }

  open() {
    this.handlers.onConnection("connecting");
    const socket = new WebSocket(wsUrl("/api/presence/ws"), socketProtocols(this.token()));
    this.socket = socket;
    socket.addEventListener("open", () => {
      this.retry = 0;
      this.renewed = false;
      this.handlers.onConnection("connected");
      clearInterval(this.timer);
      this.timer = setInterval(() => this.send({ type: "heartbeat" }), HEARTBEAT_MS);
    });
    socket.addEventListener("message", (event) => {
      let frame;
      try { frame = JSON.parse(event.data); } catch { return; }
      this.handlers.onFrame(frame);
    });
    socket.addEventListener("close", (event) => {
      clearInterval(this.timer);
      if (this.stopped || socket !== this.socket) return;
      if (event.code === POLICY_VIOLATION && this.handlers.renew && !this.renewed) {
        // Maybe only the token ran out (a laptop asleep): renew it once, then believe the refusal.
        this.renewed = true;
        this.handlers.renew().then((ok) => {
          if (this.stopped) return;
          if (ok) this.open(); else this.handlers.onRefused(event.reason || "The server refused this connection.");
        });
        return;
      }
      if (event.code === POLICY_VIOLATION || event.code === ACCESS_REVOKED) {
        this.handlers.onRefused(event.reason || "The server refused this connection.");
        return;
      }
      this.handlers.onConnection("reconnecting");
      const delay = Math.min(10000, 1000 * 2 ** this.retry++);
      setTimeout(() => { if (!this.stopped) this.open(); }, delay);
    });
  }

  send(frame) {
    if (this.socket && this.socket.readyState === WebSocket.OPEN) this.socket.send(JSON.stringify(frame));
  }
}
