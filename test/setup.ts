// A background failure must never escape as an unhandled rejection: fail the run if one does.
process.on('unhandledRejection', (reason) => {
  throw reason instanceof Error ? reason : new Error(`unhandled rejection: ${String(reason)}`);
});
