// `npm run schema` (with write-events-schema): writes src/peer-yaml/peer-schema.validate.ts from schemas/peer.schema.json.
import { writeFileSync } from 'node:fs';
import { PEER_VALIDATOR_PATH, peerValidatorSource } from './peer-validator-source.js';

writeFileSync(PEER_VALIDATOR_PATH, peerValidatorSource());
process.stdout.write('wrote src/peer-yaml/peer-schema.validate.ts\n');
