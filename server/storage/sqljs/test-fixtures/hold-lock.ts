// Test fixture: opens the database in argv[2], prints "ready <pid>", then waits to be killed,
// so the lock tests have a live second process holding the data folder.
import { openSqlJsDatabase } from '../open.ts';

await openSqlJsDatabase({ dataDir: process.argv[2]!, migrationsDir: null });
process.stdout.write(`ready ${process.pid}\n`);
setInterval(() => {}, 1 << 30);
