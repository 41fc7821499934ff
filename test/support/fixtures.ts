import type { TestApp } from './app.ts';

/** The seeds' topics: accessplanit's Delegate module, Absorb's users and enrollments. */
export const delegateTopic = {
  key: 'delegate',
  name: 'Delegate (UserCourseDate)',
  resourceUrlTemplate: 'https://lms.example/api/delegates/{id}',
  fields: [
    { path: 'forename', label: 'Delegate First Name', type: 'STRING', mergeTag: '@@CandidateForename' },
    { path: 'surname', label: 'Delegate Surname', type: 'STRING', mergeTag: '@@CandidateSurname' },
    { path: 'type', label: 'Type', type: 'ENUM', values: ['Delegate', 'Trainer'] },
    { path: 'status', label: 'Status', type: 'ENUM', values: ['Booked', 'Provisional', 'In Progress', 'Completed', 'No Attend', 'Cancelled'] },
    { path: 'sessionId', label: 'Session', type: 'STRING' },
    { path: 'score', label: 'Score', type: 'NUMBER' },
    { path: 'startDate', label: 'Start date', type: 'DATE' },
  ],
};

/** Absorb's events: users created by admins, enrollments completed by learners. */
const absorbTopics = [
  { key: 'user', name: 'User' },
  { key: 'enrollment', name: 'Enrollment', customActions: ['completed'] },
];

export async function setUpTopics(t: TestApp, key?: string) {
  for (const input of [delegateTopic, ...absorbTopics]) {
    await t.ok('mutation($input: CreateTopicInput!) { createTopic(input: $input) { key } }', { input }, key);
  }
}

