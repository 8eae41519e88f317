// Boots the strategy worker (app/src/strategy_worker.rs): the page posts the URLs of its own
// bundle; importing it and initialising the wasm starts the Rust side, which takes over
// `onmessage` and says it is ready.
self.onmessage = async (event) => {
  self.onmessage = null;
  const { js, wasm } = event.data;
  try {
    const { default: init } = await import(js);
    await init({ module_or_path: wasm });
  } catch (error) {
    self.postMessage(JSON.stringify({ event: "failed", message: `The strategy worker could not load the page's code: ${error}. Reload the page.` }));
  }
};
