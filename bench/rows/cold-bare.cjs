// The runtime alone, for the cold row of bench/rows/run.ts: a script that does nothing but print
// what a cold client prints at its first line (`COLD {json}`): the runtime's own start, in wall
// time and in the process's CPU time. A client's CPU time is measured beyond this one's.
const { user, system } = process.cpuUsage();
process.stdout.write(`COLD ${JSON.stringify({ runtimeMs: performance.now(), cpuMs: (user + system) / 1000 })}\n`);
