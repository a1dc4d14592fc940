// Toasts (sonner) for what finished in the background: saved, failed. They are announced
// to screen readers through sonner's live region.

import { Toaster as Sonner, toast } from "sonner";
// The app's CSP allows no inline <style>: sonner's styles come in the bundle's CSS.
import "sonner/dist/styles.css";

export { toast };

export function Toaster() {
  return <Sonner position="bottom-right" closeButton richColors={false} toastOptions={{ className: "toast" }} />;
}

/** Runs ``p``; a toast says it was saved, or why it failed. */
export function withToast<T>(p: Promise<T>, saved: string): Promise<T | undefined> {
  return p.then(
    (v) => {
      toast.success(saved);
      return v;
    },
    (e: Error) => {
      toast.error(e.message);
      return undefined;
    },
  );
}
