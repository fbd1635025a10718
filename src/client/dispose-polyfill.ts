/**
 * `await using` looks up `Symbol.asyncDispose`. Node 20.19+ defines it; older runtimes and some bundlers'
 * targets do not, so the client installs the registered symbol the TC39 proposal (and TypeScript's
 * helpers) agree on, before any class of the client is defined with it.
 */
const symbols = Symbol as unknown as { asyncDispose?: symbol; dispose?: symbol };
symbols.asyncDispose ??= Symbol.for("Symbol.asyncDispose");
symbols.dispose ??= Symbol.for("Symbol.dispose");

export {};
