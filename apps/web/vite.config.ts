import react from "@vitejs/plugin-react";
import { defineConfig } from "vite";

// The production build is what `npm start` serves (apps/web/server): hashed file names, no inline script, so the
// server's Content-Security-Policy can forbid every script that is not one of these files.
export default defineConfig({
  plugins: [react()],
  build: { outDir: "dist", assetsInlineLimit: 0, sourcemap: false },
});
