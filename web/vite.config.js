// The pages are built into TALLY_WEB_OUT (CMake: BUILD/web), which
// tallyd serves; nothing is fetched from elsewhere at run time.
import { defineConfig } from "vite";

export default defineConfig({
  base: "/",
  build: {
    outDir: process.env.TALLY_WEB_OUT || "dist",
    emptyOutDir: true,
    target: "es2020",
    modulePreload: { polyfill: false }, // no inline script
    assetsInlineLimit: 0,                // no data: URLs for assets
    sourcemap: false,
  },
});
