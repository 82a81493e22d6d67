import { StrictMode } from "react";
import { createRoot } from "react-dom/client";
import { App } from "./shell/App.tsx";
import { loadConfig } from "./shell/config.ts";
import "./shell/i18n.ts";
import "./shell/styles.css";

const root = document.getElementById("root");
if (root) {
  await loadConfig();
  createRoot(root).render(
    <StrictMode>
      <App />
    </StrictMode>,
  );
}
