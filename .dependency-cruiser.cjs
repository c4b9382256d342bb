/**
 * The import rules that keep the layout's arrows pointing inward (README, "Layout"). `npm test`
 * runs them (scripts/test.sh: `npx depcruise lambdas lib bin scripts`); a broken rule fails the
 * run, naming the rule and the offending import.
 */
/** @type {import('dependency-cruiser').IConfiguration} */
module.exports = {
  forbidden: [
    {
      name: 'core-imports-inward-only',
      comment: 'lambdas/core is the domain: it imports contract/ and itself, no adapter, runtime, handler, entry or local-mode code.',
      severity: 'error',
      from: { path: '^lambdas/core/' },
      to: { path: '^(lambdas/(adapters|runtime|handlers|xks-proxy|hsm-agent|local)/|lib/|bin/|scripts/|test/)' },
    },
    {
      name: 'core-uses-no-sdk',
      comment: 'lambdas/core knows nothing of the AWS SDK, PKCS#11, the CDK or Lambda: adapters translate.',
      severity: 'error',
      from: { path: '^lambdas/core/' },
      to: { path: '(^|/)node_modules/(@aws-sdk|@smithy|@aws-crypto|pkcs11js|aws-cdk-lib|constructs|cdk-nag|@types/aws-lambda|aws-lambda|@middy|@aws-lambda-powertools|aws-jwt-verify|jose)(/|$)' },
    },
    {
      name: 'contract-is-the-leaf',
      comment: 'lambdas/contract is plain data shared by the CDK and the runtime: it imports nothing of the project but itself.',
      severity: 'error',
      from: { path: '^lambdas/contract/' },
      to: { pathNot: '^lambdas/contract/', dependencyTypesNot: ['core'] },
    },
    {
      name: 'lib-imports-only-contract',
      comment: 'The CDK (lib/) reads the runtime only through lambdas/contract; handlers are named by path.',
      severity: 'error',
      from: { path: '^lib/' },
      to: { path: '^(lambdas/(?!contract/)|bin/|scripts/|test/)' },
    },
    {
      name: 'no-local-mode-in-deployed-code',
      comment: 'Only lambdas/local (and bin/local.ts, scripts, tests) may import local-mode code, so no Lambda bundle contains it.',
      severity: 'error',
      from: { path: '^lambdas/(?!local/)' },
      to: { path: '^lambdas/local/' },
    },
    {
      name: 'no-test-code-in-production',
      severity: 'error',
      from: { path: '^(lambdas|lib|bin)/' },
      to: { path: '^test/' },
    },
    {
      name: 'no-dev-dependencies-in-deployed-code',
      comment: 'Deployed code (everything under lambdas/ but local mode, lib/, bin/app.ts) uses dependencies only; types may come from devDependencies.',
      severity: 'error',
      from: { path: '^(lambdas/(?!local/)|lib/|bin/app\\.ts)' },
      to: { dependencyTypes: ['npm-dev'], dependencyTypesNot: ['type-only'] },
    },
    {
      name: 'no-module-cycles',
      comment: 'The local AWS stand-in registers its operations through a registry its modules import back (its own README); every other module is acyclic.',
      severity: 'error',
      from: { path: '^(lambdas|lib|bin)/', pathNot: '^lambdas/local/aws-stand-in/' },
      to: { circular: true },
    },
    {
      name: 'no-folder-cycles',
      comment: 'Folders depend on each other one way (e.g. runtime -> adapters, never back).',
      severity: 'error',
      scope: 'folder',
      from: { path: '^(lambdas|lib|bin)/' },
      to: { circular: true },
    },
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    exclude: { path: '(^|/)(node_modules|cdk\\.out|\\.local)/' },
    tsConfig: { fileName: 'tsconfig.json' },
    tsPreCompilationDeps: true,
    combinedDependencies: false,
    enhancedResolveOptions: { exportsFields: ['exports'], conditionNames: ['import', 'require', 'node', 'default', 'types'] },
    reporterOptions: { text: { highlightFocused: true } },
  },
};
