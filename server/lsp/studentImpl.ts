/**
 * The student's implementation in a worker thread (training, sampling and previews with their code).
 * TypeScript comes with the loader bundle beside this one (dist/studentLoader.js), loaded only here.
 */
import * as path from 'path';
import * as tf from '@tensorflow/tfjs';
import type { Implementation } from '../engine/implementation';
import { studentImplementation } from '../assignment/studentImplementation';

export function studentImpl(file: string): Implementation {
  const loader = require(path.join(__dirname, 'studentLoader.js')) as typeof import('../assignment/studentModule');
  return studentImplementation(file, loader.loadStudentModule(file, tf));
}
