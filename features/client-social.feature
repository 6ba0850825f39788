# Browser scenarios (a real Chromium, clerk-js and Clerk's UI against the Frontend API). Serial: each runs its
# own browser, and the CPU is shared with the app. mock-clerk enables Google and GitHub on the instance and
# plays the provider itself: its consent page stands in for Google's, so the round trip works offline.
@client @client-social @serial
Feature: Client social sign-in
  The <SignIn/> component handles the entire authentication flow: email/password, social logins, MFA.
  It shows the social providers enabled on the instance; choosing one goes to the provider's consent page and
  comes back through Clerk's SSO callback, which signs in the user with that external account — creating the
  account for a new user, linking it for an existing one. A denied consent comes back as Clerk's error.

  @CL-701
  Scenario: A new user signs in with Google: the account is created with its Google account
    Given I have no account yet
    When I open the sign-in page in the browser
    And I sign in with Google as my email
    Then the browser shows my first name and email
    And my account at Clerk has a Google external account with an access token

  @CL-702
  Scenario: An existing user signs in with GitHub: the GitHub account is linked to it
    Given I have an account with a password
    When I open the sign-in page in the browser
    And I sign in with GitHub as my email
    Then the browser shows my first name and email
    And my account at Clerk has a GitHub external account with an access token

  @CL-703
  Scenario: Denying the consent comes back to the sign-in page with Clerk's error, and creates nothing
    Given I have no account yet
    When I open the sign-in page in the browser
    And I deny the Google consent
    Then the browser is on the sign-in page
    And the sign-in page shows Clerk's alert mentioning "grant access"
    And Clerk has no account with my email
