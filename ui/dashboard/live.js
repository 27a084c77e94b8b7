/* The company's summary pushed over WebSocket /api/portal/dashboard/ws?company_id=... (token as
   subprotocol). The server sends the summary at once on every (re)connection, so a dropped
   socket only has to come back: it retries with a growing delay, and meanwhile the page reads
   the summary over HTTP (`onDown`) so figures never freeze. A refusal (1008: token expired,
   access removed) asks for a fresh token once (`renew`) before giving up (`onRefused`). */

import { socketProtocols, wsUrl } from "../assets/api.js";

const POLICY_VIOLATION = 1008;
const MAX_DELAY_MS = 15000;

export class DashboardSocket {
  constructor(companyId, { token, renew, onSummary, onState, onDown, onRefused }) {
    Object.assign(this, { companyId, token, renew, onSummary, onState, onDown, onRefused });
    this.retry = 0;
    this.stopped = false;
    this.socket = null;
    this.timer = null;
    this.renewed = false;
  }

  open() {
    this.onState("connecting");
    const socket = new WebSocket(wsUrl("/api/portal/dashboard/ws", { company_id: this.companyId }), socketProtocols(this.token()));
    this.socket = socket;
    socket.addEventListener("message", (event) => {
      let frame;
      try { frame = JSON.parse(event.data); } catch { return; }
      if (frame.type !== "summary") return;
      this.retry = 0;
      this.renewed = false;
      this.onState("live");
      this.onSummary(frame.summary);
    });
    socket.addEventListener("close", async (event) => {
      if (socket !== this.socket || this.stopped) return;
      if (event.code === POLICY_VIOLATION) {
        if (!this.renewed && (await this.renew())) {
          this.renewed = true;
          this.open();
          return;
        }
        this.onRefused(event.reason || "You may no longer see this dashboard.");
        return;
      }
      this.onState("down");
      this.onDown();
      const delay = Math.min(MAX_DELAY_MS, 500 * 2 ** this.retry);
      this.retry += 1;
      this.timer = setTimeout(() => { if (!this.stopped) this.open(); }, delay);
    });
  }

  stop() {
    this.stopped = true;
    clearTimeout(this.timer);
    if (this.socket) this.socket.close();
  }
}
