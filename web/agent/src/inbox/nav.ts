// Moving between the list and a conversation (on a phone they are two screens).

/** Whether the page came to the open conversation from the list (so Back can go back). */
let cameFromList = false;

/** Call on every hashchange: remembers where the page came from. */
export function noteHashChange(oldURL: string): void {
  const from = new URL(oldURL).hash;
  cameFromList = location.hash.startsWith("#/c/") && !from.startsWith("#/c/") && !from.startsWith("#/admin");
}

/** Back to the list: the browser's own Back when the list is where the page came from (so
 *  Back and Forward keep working), else to the list's address. */
export function backToList(): void {
  if (cameFromList && history.length > 1) history.back();
  else location.hash = "#/";
}
