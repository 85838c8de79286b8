// Entry point of the console: mounts the app into index.html's #app.
// Invariant: nothing runs before the DOM exists (the module script is deferred).

import { render } from "preact";
import { App } from "./app.tsx";
import "./style.css";

const root = document.getElementById("app");
if (root !== null) render(<App />, root);
