// `npm run schema`: writes schemas/events.schema.json from its one source, src/output/events-schema.ts.
// test/output/events-schema.test.ts fails while the committed file differs from what this writes.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { eventsSchemaText } from '../../src/output/events-schema.js';
import { ROOT } from '../helpers.js';

writeFileSync(join(ROOT, 'schemas/events.schema.json'), eventsSchemaText());
process.stdout.write('wrote schemas/events.schema.json\n');
