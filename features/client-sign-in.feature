# Browser scenarios (a real Chromium, clerk-js and Clerk's UI against the Frontend API). Serial: each runs its
# own browser, and the CPU is shared with the app.
@client @client-sign-in @serial
Feature: Client sign-in
  The <SignIn/> component handles the entire authentication flow: email/password, social logins, MFA.
  Protected pages send the browser to the sign-in page, which is public; after signing in the user lands
  where they were going and the client components know who they are.

  @CL-001
  Scenario: Signing in with email and password through the app's sign-in page
    Given I have an account with a password
    When I open the data page in the browser
    Then the browser is on the sign-in page
    When I sign in through the sign-in page with my email and password
    Then the browser is on the data page
    And the browser shows my first name and email
    And the browser shows the API's data

  @CL-002
  Scenario: A wrong password is refused with Clerk's error on the sign-in page
    Given I have an account with a password
    When I open the sign-in page in the browser
    And I sign in through the sign-in page with a wrong password
    Then the sign-in page shows an error mentioning "password"
    And the browser is on the sign-in page

  @CL-003
  Scenario: Signing in with an email code
    Given I have an account without a password
    When I open the sign-in page in the browser
    And I sign in through the sign-in page with an email code
    Then the browser shows my first name and email

  @CL-004
  Scenario: An email address without an account is refused with Clerk's error
    When I open the sign-in page in the browser
    And I try to sign in through the sign-in page with an email that has no account
    Then the sign-in page shows an error mentioning "account"
