// The app's shared components. Screens build from these and the tokens in styles/tokens.css.
export { Button, IconButton } from "./Button";
export { Dialog } from "./Dialog";
export { Empty } from "./Empty";
export { Card, Field } from "./Field";
export { Menu, MenuChoices, MenuItem, MenuLabel, MenuSeparator, MenuSub, Popover } from "./Menu";
export { PHONE, useMedia } from "./media";
export { Toaster, toast, withToast } from "./toast";
export { currentOverlay, openOverlay, type Overlay, useOverlay } from "./overlays";
