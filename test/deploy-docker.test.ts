// Dockerfile (CPU) and Dockerfile.cuda, parsed with dockerfile-ast (no image can be pulled here):
// multi-stage, pinned bases, a non-root final user, port 8080, a health check on /healthz, a model
// cache volume, the prebuilt addon; every file a COPY takes from the build context exists and
// is not excluded by .dockerignore; apt installs clean up after themselves.
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { DockerfileParser, type Instruction } from 'dockerfile-ast';
import t from 'tap';
import { repoRoot } from './helpers/fixtures.js';

const dockerignore = readFileSync(path.join(repoRoot, '.dockerignore'), 'utf8').split('\n').map((l) => l.trim()).filter((l) => l && !l.startsWith('#'));

function flagsOf(instruction: Instruction): Record<string, string | null> {
  const flags = (instruction as unknown as { getFlags?: () => Array<{ getName(): string; getValue(): string | null }> }).getFlags?.() ?? [];
  return Object.fromEntries(flags.map((f) => [f.getName(), f.getValue()]));
}

for (const [file, runtimeBase] of [['Dockerfile', /^node$/], ['Dockerfile.cuda', /^nvidia\/cuda$/]] as const) {
  t.test(`${file}: a lint of its structure, and every copied file exists`, async (t) => {
    const text = readFileSync(path.join(repoRoot, file), 'utf8');
    const dockerfile = DockerfileParser.parse(text);
    const froms = dockerfile.getFROMs();
    t.ok(froms.length >= 2, 'multi-stage');
    for (const from of froms) {
      t.ok(from.getImageTag() && from.getImageTag() !== 'latest', `${from.getImageName()} has a pinned tag (${from.getImageTag()})`);
    }
    const stages = froms.map((f) => f.getBuildStage()).filter((s): s is string => Boolean(s));
    const final = froms[froms.length - 1];
    t.match(final.getImageName() ?? '', runtimeBase, `runtime base ${final.getImageName()}`);
    const finalRange = final.getRange().start.line;
    const finalStage = dockerfile.getInstructions().filter((i) => i.getRange().start.line >= finalRange);
    const keyword = (k: string) => finalStage.filter((i) => i.getKeyword() === k);

    const user = keyword('USER').at(-1)?.getArguments()[0]?.getValue() ?? 'root';
    t.notMatch(user, /^(root|0)(:|$)/, `runs as a non-root user (${user})`);
    t.same(keyword('EXPOSE').map((i) => i.getArguments()[0].getValue()), ['8080']);
    const health = keyword('HEALTHCHECK');
    t.equal(health.length, 1, 'one HEALTHCHECK');
    t.match(health[0]?.getTextContent() ?? '', /\/healthz/);
    t.match(keyword('VOLUME').map((i) => i.getTextContent()).join(' '), /\/models-cache/, 'model cache volume');
    t.match(keyword('ENV').map((i) => i.getTextContent()).join(' '), /HF_HOME=\/models-cache/, 'HF_HOME points at the volume');
    t.match(keyword('ENTRYPOINT')[0]?.getTextContent() ?? '', /dist\/lib\/cli\/sie-server\.js/);
    const copiedFromBuild = keyword('COPY').map((i) => i.getArguments().map((a) => a.getValue()).join(' '));
    t.ok(copiedFromBuild.some((c) => c.includes('/src/prebuilds')), 'the prebuilt addon is in the image');

    for (const run of dockerfile.getInstructions().filter((i) => i.getKeyword() === 'RUN')) {
      const body = run.getTextContent();
      if (!body.includes('apt-get install')) continue;
      t.match(body, /--no-install-recommends/, 'apt-get install --no-install-recommends');
      t.match(body, /rm -rf \/var\/lib\/apt\/lists/, 'apt lists removed in the same layer');
    }

    for (const copy of dockerfile.getInstructions().filter((i) => i.getKeyword() === 'COPY' || i.getKeyword() === 'ADD')) {
      const from = flagsOf(copy).from;
      if (from) {
        t.ok(stages.includes(from), `COPY --from=${from} names a stage of this file`);
        continue;
      }
      const args = copy.getArguments().map((a) => a.getValue());
      for (const source of args.slice(0, -1)) {
        t.ok(existsSync(path.join(repoRoot, source)), `${file}: COPY ${source} exists in the build context`);
        t.notOk(dockerignore.some((pattern) => source === pattern || source.startsWith(`${pattern}/`)), `${source} is not excluded by .dockerignore`);
      }
    }
  });
}
