import { PGlite } from '@electric-sql/pglite'
let t=Date.now()
const db = await PGlite.create()
console.log('create', Date.now()-t); t=Date.now()
await db.exec('create table x(a int primary key)')
const r = await db.query('select $1::int + 1 as v, now() as n', [1]); console.log(r.rows)
const dump = await db.dumpDataDir('none'); console.log('dump', Date.now()-t, dump.size); t=Date.now()
const db2 = await PGlite.create({loadDataDir: dump}); console.log('load', Date.now()-t)
console.log((await db2.query('select count(*) from x')).rows, (await db2.query('select version()')).rows)
