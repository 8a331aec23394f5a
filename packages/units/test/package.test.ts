import { testAsConsumer } from '../../../scripts/package-tests.js'

// This package as a consumer gets it: its packed contents and its README's examples.
testAsConsumer(import.meta.url)
