// Council's loader: imports the app's wasm-bindgen module and starts it. It replaces the
// inline <script type="module"> Trunk writes by default (Trunk.toml `pattern_script`), so
// the page's Content-Security-Policy can forbid every inline script. Trunk fills in the
// hashed file names as data attributes of the tag that loads this file.
(() => {
  const me = document.currentScript;
  const js = me.dataset.councilJs;
  const wasm = me.dataset.councilWasm;
  import(js)
    .then(async bindings => {
      const instance = await bindings.default({ module_or_path: wasm });
      // The browser tests' hooks (app/src/test_hooks.rs), as Trunk's own loader exposes them.
      window.wasmBindings = bindings;
      dispatchEvent(new CustomEvent('TrunkApplicationStarted', { detail: { wasm: instance } }));
    })
    .catch(e => {
      const main = document.querySelector('#boot main');
      if (main) main.textContent = `The playground could not start: ${e && e.message ? e.message : e}`;
      throw e;
    });
})();
