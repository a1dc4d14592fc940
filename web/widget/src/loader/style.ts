// Styles inside the launcher's shadow root; the host page's CSS cannot reach them.
export const LAUNCHER_CSS = `
:host { all: initial; }
.launcher { position: fixed; right: 20px; bottom: 20px; z-index: 2147483000; width: 56px;
  height: 56px; border-radius: 50%; border: 0; padding: 0; cursor: pointer; color: #fff;
  background: #2563eb; box-shadow: 0 4px 14px rgba(0,0,0,.25); display: flex;
  align-items: center; justify-content: center; }
.launcher:focus-visible { outline: 3px solid #93c5fd; outline-offset: 2px; }
.badge { position: absolute; top: -4px; right: -4px; min-width: 20px; height: 20px;
  padding: 0 5px; box-sizing: border-box; border-radius: 10px; background: #dc2626;
  color: #fff; font: 600 12px/20px system-ui, sans-serif; text-align: center; }
.badge[hidden], .panel[hidden] { display: none; }
.panel { position: fixed; right: 20px; bottom: 88px; z-index: 2147483000; width: 380px;
  height: min(640px, calc(100vh - 108px)); border-radius: 12px; overflow: hidden;
  box-shadow: 0 8px 30px rgba(0,0,0,.3); background: #fff; }
.panel iframe { border: 0; width: 100%; height: 100%; display: block; }
@media (max-width: 480px) {
  .panel { inset: 0; width: 100%; height: 100%; border-radius: 0; }
  :host([data-open]) .launcher { display: none; }
}
`;
