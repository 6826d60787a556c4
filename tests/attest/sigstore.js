// sigstore-js (@sigstore/verify, @sigstore/bundle: the verifier inside npm's `sigstore`
// package), an independent implementation, against cairn's bundles, offline: the key is
// supplied, so no trusted root is fetched and no transparency log is asked for.
//
//   node sigstore.js verify BUNDLE PUBKEY.pem       verifies; prints the key hint
//   node sigstore.js sign KEY.pem STATEMENT OUT HINT  writes a bundle sigstore-js builds
'use strict';
const fs = require('fs');
const nodeCrypto = require('crypto');
const { Verifier, toSignedEntity, toTrustMaterial } = require('@sigstore/verify');
const { bundleFromJSON, bundleToJSON, toDSSEBundle } = require('@sigstore/bundle');

function pae(type, body) {
  const head = Buffer.from(`DSSEv1 ${Buffer.byteLength(type)} ${type} ${body.length} `);
  return Buffer.concat([head, body]);
}

const [mode, ...args] = process.argv.slice(2);
if (mode === 'verify') {
  const bundle = bundleFromJSON(JSON.parse(fs.readFileSync(args[0], 'utf8')));
  const spki = nodeCrypto
    .createPublicKey(fs.readFileSync(args[1], 'utf8'))
    .export({ type: 'spki', format: 'der' });
  const hint = bundle.verificationMaterial.content.publicKey.hint;
  const trust = toTrustMaterial(
    { certificateAuthorities: [], timestampAuthorities: [], tlogs: [], ctlogs: [] },
    { [hint]: { rawBytes: spki } },
  );
  const verifier = new Verifier(trust, {
    tlogThreshold: 0,
    ctlogThreshold: 0,
    timestampThreshold: 0,
  });
  verifier.verify(toSignedEntity(bundle));
  console.log(`verified ${hint}`);
} else if (mode === 'sign') {
  const key = nodeCrypto.createPrivateKey(fs.readFileSync(args[0], 'utf8'));
  const statement = fs.readFileSync(args[1]);
  const type = 'application/vnd.in-toto+json';
  const digest = key.asymmetricKeyType === 'ed25519' ? null : 'sha256';
  const signature = nodeCrypto.sign(digest, pae(type, statement), key);
  const bundle = toDSSEBundle({
    artifact: statement,
    artifactType: type,
    signature,
    keyHint: args[3],
  });
  fs.writeFileSync(args[2], JSON.stringify(bundleToJSON(bundle)));
} else {
  console.error(`unknown mode ${mode}`);
  process.exit(2);
}
