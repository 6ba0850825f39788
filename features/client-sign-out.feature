@client @sign-out-button @serial
Feature: Client-side sign-out
  useClerk().signOut() signs the user out: the session ends at Clerk and the browser lands on the page
  after sign-out.

  @CL-301
  Scenario: The app's sign-out button ends the session at Clerk and lands on the page after sign-out
    Given I am signed in through the sign-in page
    When I click the app's sign-out button
    Then my browser session has ended at Clerk
    And the browser is on the page after sign-out

  @CL-302
  Scenario: After the app's sign-out button, protected pages send the browser to sign in
    Given I am signed in through the sign-in page
    When I click the app's sign-out button
    And I open the data page in the browser
    Then the browser is on the sign-in page
