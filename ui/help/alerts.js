/* How an incoming request gets the technician's attention: a card, a desktop
   notification where the browser allows it, and a short tone made with WebAudio. */

let audio = null;

/* Browsers only let a page make sound after a user gesture: prepare the context on the first one. */
export function primeAudio() {
  const prepare = () => {
    if (!audio && (window.AudioContext || window.webkitAudioContext)) {
      audio = new (window.AudioContext || window.webkitAudioContext)();
    }
    if (audio && audio.state === "suspended") audio.resume();
  };
  window.addEventListener("pointerdown", prepare, { once: true });
  window.addEventListener("keydown", prepare, { once: true });
}

export function chime() {
  if (!audio || audio.state !== "running") return false;
  const start = audio.currentTime;
  for (const [offset, frequency] of [[0, 660], [0.16, 880]]) {
    const osc = audio.createOscillator();
    const gain = audio.createGain();
    osc.type = "sine";
    osc.frequency.value = frequency;
    gain.gain.setValueAtTime(0.0001, start + offset);
    gain.gain.exponentialRampToValueAtTime(0.18, start + offset + 0.02);
    gain.gain.exponentialRampToValueAtTime(0.0001, start + offset + 0.28);
    osc.connect(gain).connect(audio.destination);
    osc.start(start + offset);
    osc.stop(start + offset + 0.3);
  }
  return true;
}

const shown = new Map();

export function notify(alert) {
  if (!("Notification" in window) || Notification.permission !== "granted") return;
  const title = alert.kind === "assigned"
    ? `New chat assigned: ${alert.customer_name}`
    : `Support request from ${alert.customer_name}`;
  try {
    const note = new Notification(title, { body: alert.description || "", tag: alert.request_id });
    note.onclick = () => { window.focus(); note.close(); };
    shown.set(alert.request_id, note);
  } catch {
    /* Some browsers only allow notifications from a service worker; the card is enough. */
  }
}

export function dismissNotification(requestId) {
  const note = shown.get(requestId);
  if (note) note.close();
  shown.delete(requestId);
}

export function permissionState() {
  return "Notification" in window ? Notification.permission : "unsupported";
}

export async function askPermission() {
  if (!("Notification" in window)) return "unsupported";
  return Notification.requestPermission();
}
